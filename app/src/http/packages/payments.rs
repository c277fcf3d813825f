//! Single-lesson checkout, stub payments, pricing and promotions.

use super::*;

/// Single-lesson checkout, stub payments, pricing and promotions.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentsApi;

#[OpenApi]
impl PaymentsApi {
    /// Checks out one of the caller's confirmed bookings; a retry returns the pending payment.
    #[oai(path = "/bookings/:id/checkout", method = "post", tag = "ApiTags::Payments")]
    async fn checkout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> PaymentResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .checkout_booking(&caller.actor, BookingId::from_uuid(id.0), caller.user.locale)
                    .await?)
            },
            |p| PaymentResponse::Ok(Json(PaymentDto::from(&p))),
        )
        .await
    }

    /// The stub checkout's completion: settles a stub payment (idempotent).
    #[oai(path = "/payments/:id/stub-complete", method = "post", tag = "ApiTags::Payments")]
    async fn stub_complete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        id: Path<Uuid>,
    ) -> PaymentResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .settle_stub(&caller.actor, PaymentId::from_uuid(id.0))
                    .await?)
            },
            |p| PaymentResponse::Ok(Json(PaymentDto::from(&p))),
        )
        .await
    }

    /// The platform's per-session rates (public: prices are shown to everyone;
    /// a signed-in caller must have consented, like everywhere else).
    #[oai(path = "/pricing", method = "get", tag = "ApiTags::Payments")]
    async fn pricing(&self, state: Data<&AppState>, auth: MaybeAuth) -> PricingResponse {
        respond(
            async {
                maybe_consented(&state, &auth).await?;
                Ok(state.packages.pricing().await?)
            },
            |p| PricingResponse::Ok(Json(PricingDto::from(&p))),
        )
        .await
    }

    /// Staff replace the pricing config.
    #[oai(path = "/pricing", method = "put", tag = "ApiTags::Payments")]
    async fn set_pricing(&self, state: Data<&AppState>, auth: BearerAuth, body: Json<PricingInput>) -> PricingResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let mut rates = Vec::with_capacity(body.0.rates.len());
                for r in body.0.rates {
                    let currency = Currency::parse(&r.currency)?;
                    rates.push(SessionRates::new(
                        Money::new(r.one_on_one, currency)?,
                        Money::new(r.group, currency)?,
                    )?);
                }
                let config = PricingConfig::new(rates)?;
                state.packages.set_pricing(&caller.actor, config.clone()).await?;
                Ok(config)
            },
            |p| PricingResponse::Ok(Json(PricingDto::from(&p))),
        )
        .await
    }

    /// Every promotion (staff).
    #[oai(path = "/promotions", method = "get", tag = "ApiTags::Payments")]
    async fn promotions(&self, state: Data<&AppState>, auth: BearerAuth) -> PromotionsResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state.packages.promotions(&caller.actor).await?)
            },
            |p| PromotionsResponse::Ok(Json(p.iter().map(PromotionDto::from).collect())),
        )
        .await
    }

    /// Staff create a promotion.
    #[oai(path = "/promotions", method = "post", tag = "ApiTags::Payments")]
    async fn create_promotion(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")
        )]
        _key: Header<Option<String>>,
        body: Json<PromotionInput>,
    ) -> PromotionResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                let promotion = parse_promotion(state.packages.new_promotion_id(), body.0)?;
                Ok(state.packages.save_promotion(&caller.actor, promotion).await?)
            },
            |p| PromotionResponse::Created(Json(PromotionDto::from(&p))),
        )
        .await
    }

    /// Staff delete a promotion.
    #[oai(path = "/promotions/:id", method = "delete", tag = "ApiTags::Payments")]
    async fn delete_promotion(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> DeletePromotionResponse {
        respond(
            async {
                let caller = consented(&state, &auth).await?;
                Ok(state
                    .packages
                    .delete_promotion(&caller.actor, PromotionId::from_uuid(id.0))
                    .await?)
            },
            |()| DeletePromotionResponse::Deleted,
        )
        .await
    }
}
