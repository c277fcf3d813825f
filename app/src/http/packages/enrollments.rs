//! Enrollments in packages, their refund quotes and refunds.

use super::*;

/// Enrollments in packages, their refund quotes and refunds.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrollmentsApi;

#[OpenApi]
impl EnrollmentsApi {
    /// The enrollments of a package (its teacher or staff).
    #[oai(path = "/packages/:id/enrollments", method = "get", tag = "ApiTags::Packages")]
    async fn enrollments(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> EnrollmentsResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let found = state
                    .packages
                    .package_enrollments(&caller.actor, PackageId::from_uuid(id.0))
                    .await?;
                Ok(found
                    .iter()
                    .map(|e| EnrollmentDto::for_viewer(e, &caller.actor))
                    .collect())
            },
            |e| EnrollmentsResponse::Ok(Json(e)),
        )
        .await
    }

    /// Enrolls the caller: a confirmed seat on every session or nothing, the
    /// best promotion applied, the payment created (settled at once in stub mode).
    #[oai(path = "/packages/:id/enrollments", method = "post", tag = "ApiTags::Packages")]
    async fn enroll(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> EnrollResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .enroll(&caller.actor, PackageId::from_uuid(id.0), caller.user.locale)
                    .await?)
            },
            |e| EnrollResponse::Created(Json(EnrollmentDto::from(&e))),
        )
        .await
    }

    /// The caller's enrollments, newest first.
    #[oai(path = "/me/enrollments", method = "get", tag = "ApiTags::Packages")]
    async fn mine(&self, state: Data<&AppState>, auth: BearerAuth) -> EnrollmentsResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.packages.my_enrollments(&caller.actor).await?)
            },
            |e| EnrollmentsResponse::Ok(Json(e.iter().map(EnrollmentDto::from).collect())),
        )
        .await
    }

    /// One enrollment (its student, the package's teacher, or staff).
    #[oai(path = "/enrollments/:id", method = "get", tag = "ApiTags::Packages")]
    async fn enrollment(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> EnrollmentResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let found = state
                    .packages
                    .enrollment(&caller.actor, EnrollmentId::from_uuid(id.0))
                    .await?;
                Ok(EnrollmentDto::for_viewer(&found, &caller.actor))
            },
            |e| EnrollmentResponse::Ok(Json(e)),
        )
        .await
    }

    /// What leaving now would pay back (docs/product.md §10), with every method's amount.
    #[oai(path = "/enrollments/:id/refund-quote", method = "get", tag = "ApiTags::Packages")]
    async fn quote(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> QuoteResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .refund_quote(&caller.actor, EnrollmentId::from_uuid(id.0))
                    .await?)
            },
            |q| QuoteResponse::Ok(Json(QuoteDto::from(&q))),
        )
        .await
    }

    /// Executes the refund once: later calls return the same refund.
    #[oai(path = "/enrollments/:id/refund", method = "post", tag = "ApiTags::Packages")]
    async fn refund(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> RefundResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .refund(&caller.actor, EnrollmentId::from_uuid(id.0))
                    .await?)
            },
            |r| RefundResponse::Created(Json(RefundDto::from(&r))),
        )
        .await
    }
}
