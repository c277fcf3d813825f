//! Course packages: create, revise, open or close, delete, list.

use super::*;

/// Course packages: create, revise, open or close, delete, list.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackagesApi;

#[OpenApi]
impl PackagesApi {
    /// Creates an open package and one slot per session. With an
    /// `Idempotency-Key` a retry returns the first package.
    #[oai(path = "/packages", method = "post", tag = "ApiTags::Packages")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        key: Header<Option<String>>,
        body: Json<PackageInput>,
    ) -> CreatePackageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let teacher = package_teacher(&caller.actor, body.0.teacher)?;
                // Staff name the teacher: it must be one, and their zone is the default.
                let zone = if caller.actor.is_staff() {
                    state.users.teacher(teacher).await?.zone
                } else {
                    caller.user.zone
                };
                let details = parse_details(body.0, zone)?;
                let view = state
                    .packages
                    .create(&caller.actor, teacher, details, key.0.clone())
                    .await?;
                package_dto(&state, &view).await
            },
            |p| CreatePackageResponse::Created(Json(Box::new(p))),
        )
        .await
    }

    /// Open packages with future sessions, soonest first (a teacher does not see their own).
    #[oai(path = "/packages", method = "get", tag = "ApiTags::Packages")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: MaybeAuth,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<u32>>,
    ) -> PackagesResponse {
        respond(
            async {
                let viewer = maybe_consented(&state, &auth).await?;
                let limit = limit.0.unwrap_or(50) as usize;
                let found = state.packages.open_packages(viewer.map(|c| c.user.id), limit).await?;
                dtos(&state, &found).await
            },
            |p| PackagesResponse::Ok(Json(p)),
        )
        .await
    }

    /// One package: open ones for everyone, others for their teacher and staff.
    #[oai(path = "/packages/:id", method = "get", tag = "ApiTags::Packages")]
    async fn get(&self, state: Data<&AppState>, auth: MaybeAuth, id: Path<Uuid>) -> PackageResponse {
        respond(
            async {
                let viewer = maybe_consented(&state, &auth).await?;
                let view = state
                    .packages
                    .package(viewer.as_ref().map(|c| &c.actor), PackageId::from_uuid(id.0))
                    .await?;
                package_dto(&state, &view).await
            },
            |p| PackageResponse::Ok(Json(Box::new(p))),
        )
        .await
    }

    /// Replaces a package's details while nobody ever enrolled; a schedule
    /// change regenerates its slots.
    #[oai(path = "/packages/:id", method = "put", tag = "ApiTags::Packages")]
    async fn revise(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<PackageInput>,
    ) -> PackageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let id = PackageId::from_uuid(id.0);
                // Without a zone the package keeps its own (not the caller's).
                let current = state.packages.package(Some(&caller.actor), id).await?;
                let details = parse_details(body.0, current.package.zone())?;
                let view = state.packages.revise(&caller.actor, id, details).await?;
                package_dto(&state, &view).await
            },
            |p| PackageResponse::Ok(Json(Box::new(p))),
        )
        .await
    }

    /// Opens, closes or drafts a package (closed packages leave the public list).
    #[oai(path = "/packages/:id/status", method = "put", tag = "ApiTags::Packages")]
    async fn set_status(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<StatusInput>,
    ) -> PackageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let status: PackageStatus = body.0.status.into();
                let view = state
                    .packages
                    .set_status(&caller.actor, PackageId::from_uuid(id.0), status)
                    .await?;
                package_dto(&state, &view).await
            },
            |p| PackageResponse::Ok(Json(Box::new(p))),
        )
        .await
    }

    /// Deletes a package nobody ever enrolled in, with its slots.
    #[oai(path = "/packages/:id", method = "delete", tag = "ApiTags::Packages")]
    async fn delete(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> DeletePackageResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.packages.delete(&caller.actor, PackageId::from_uuid(id.0)).await?)
            },
            |()| DeletePackageResponse::Deleted,
        )
        .await
    }

    /// A teacher's own packages, any status (the teacher or staff).
    #[oai(path = "/teachers/:id/packages", method = "get", tag = "ApiTags::Packages")]
    async fn of_teacher(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> PackagesResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let found = state
                    .packages
                    .teacher_packages(&caller.actor, UserId::from_uuid(id.0))
                    .await?;
                dtos(&state, &found).await
            },
            |p| PackagesResponse::Ok(Json(p)),
        )
        .await
    }
}

/// Packages as the API shows them, priced by the current pricing.
async fn dtos(state: &AppState, found: &[tutorbook_ports::PackageView]) -> Result<Vec<PackageDto>, Problem> {
    let pricing = state.packages.pricing().await?;
    let currency = state.packages.payment_settings().currency;
    Ok(found.iter().map(|v| PackageDto::of(v, &pricing, currency)).collect())
}
