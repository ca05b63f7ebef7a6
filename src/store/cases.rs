//! Offers and cases. Every change checks, in its UPDATE, that the request is where the
//! transition starts from, so two people acting at once cannot both succeed.

use crate::domain::conflict::Conflict;
use serde::Serialize;

use super::outbox::{NewMessage, enqueue_in};
use super::support::{RequestSummary, context};
use super::{Store, StoreError, StoreResult, get_i64, get_string};
use crate::crypto;
use crate::domain::accounts::AccountId;
use crate::domain::cases::{NewContact, OfferStatus, Outcome, check_in_progress, check_offer};
use crate::domain::support::{ContactMode, Identity};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub id: i64,
    pub request_id: i64,
    pub helper_id: i64,
    pub status: OfferStatus,
    pub offered_at: i64,
    pub respond_by: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub at: i64,
    pub mode: ContactMode,
    pub minutes: i64,
    pub resources: Vec<String>,
}

fn offer_from_row(r: &sqlx::any::AnyRow) -> StoreResult<Offer> {
    Ok(Offer {
        id: get_i64(r, "id")?,
        request_id: get_i64(r, "request_id")?,
        helper_id: get_i64(r, "helper_id")?,
        status: OfferStatus::parse(&get_string(r, "status")?).unwrap_or(OfferStatus::Cancelled),
        offered_at: get_i64(r, "offered_at")?,
        respond_by: get_i64(r, "respond_by")?,
    })
}

impl Store {
    /// Offers a waiting request to a helper, with the helper's e-mail in the same
    /// transaction.
    pub async fn offer_request(
        &self,
        request_id: i64,
        helper: AccountId,
        by: Option<AccountId>,
        respond_by: i64,
        mail: Option<&NewMessage>,
    ) -> StoreResult<Offer> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE support_requests SET status = 'offered', updated_at = $1
             WHERE id = $2 AND status = 'submitted'",
        )
        .bind(now)
        .bind(request_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            drop(tx);
            let r = self.support_request(request_id).await?;
            return Err(StoreError::Conflict(
                check_offer(r.status)
                    .err()
                    .unwrap_or(Conflict::RequestChanged),
            ));
        }
        let id = crypto::random_id();
        sqlx::query(
            "INSERT INTO support_offers (id, request_id, helper_id, status, offered_at, respond_by, offered_by)
             VALUES ($1, $2, $3, 'offered', $4, $5, $6)",
        )
        .bind(id)
        .bind(request_id)
        .bind(helper.0)
        .bind(now)
        .bind(respond_by)
        .bind(by.map(|b| b.0))
        .execute(&mut *tx)
        .await?;
        if let Some(m) = mail {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        if mail.is_some() {
            self.wake_delivery();
        }
        Ok(Offer {
            id,
            request_id,
            helper_id: helper.0,
            status: OfferStatus::Offered,
            offered_at: now,
            respond_by,
        })
    }

    /// Offer rows, each with the request it is about (one query for all the requests).
    async fn with_requests(
        &self,
        rows: &[sqlx::any::AnyRow],
    ) -> StoreResult<Vec<(Offer, RequestSummary)>> {
        let offers = rows
            .iter()
            .map(offer_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let ids: Vec<i64> = offers.iter().map(|o| o.request_id).collect();
        let requests = self.support_requests_by_id(&ids).await?;
        Ok(offers
            .into_iter()
            .filter_map(|o| {
                let r = requests.iter().find(|r| r.id == o.request_id)?.clone();
                Some((o, r))
            })
            .collect())
    }

    /// A helper's offers still waiting for an answer, with what each request is about.
    pub async fn pending_offers(
        &self,
        helper: AccountId,
    ) -> StoreResult<Vec<(Offer, RequestSummary)>> {
        let rows = sqlx::query(
            "SELECT o.id, o.request_id, o.helper_id, o.status, o.offered_at, o.respond_by
             FROM support_offers o JOIN support_requests r ON r.id = o.request_id
             WHERE o.helper_id = $1 AND o.status = 'offered' AND o.respond_by > $2
               AND r.status = 'offered'
             ORDER BY o.offered_at",
        )
        .bind(helper.0)
        .bind(self.now())
        .fetch_all(&self.pool)
        .await?;
        self.with_requests(&rows).await
    }

    /// Every offer still waiting for its helper's answer that lapses before `until`,
    /// soonest first, with what each request is about (coordinators' home).
    pub async fn lapsing_offers(&self, until: i64) -> StoreResult<Vec<(Offer, RequestSummary)>> {
        let rows = sqlx::query(
            "SELECT o.id, o.request_id, o.helper_id, o.status, o.offered_at, o.respond_by
             FROM support_offers o JOIN support_requests r ON r.id = o.request_id
             WHERE o.status = 'offered' AND o.respond_by > $1 AND o.respond_by <= $2
               AND r.status = 'offered'
             ORDER BY o.respond_by",
        )
        .bind(self.now())
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        self.with_requests(&rows).await
    }

    /// A helper answers an offer. Someone else's offer is not found; an offer already
    /// answered or expired is a conflict.
    ///
    /// On acceptance, `tell_requester` writes the message telling the person that a peer
    /// will reach out; it is queued (sealed) in the same transaction.
    pub async fn answer_offer(
        &self,
        offer_id: i64,
        helper: AccountId,
        accept: bool,
        tell_requester: Option<&(dyn Fn(&Identity) -> NewMessage + Sync)>,
    ) -> StoreResult<Offer> {
        let now = self.now();
        let row = sqlx::query(
            "SELECT id, request_id, helper_id, status, offered_at, respond_by FROM support_offers
             WHERE id = $1 AND helper_id = $2",
        )
        .bind(offer_id)
        .bind(helper.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let offer = offer_from_row(&row)?;
        let notice = match (accept, tell_requester) {
            (true, Some(make)) => self
                .support_identity(offer.request_id)
                .await?
                .filter(|i| !i.email.is_empty())
                .map(|i| make(&i)),
            _ => None,
        };
        // Both rows move from the states this answer expects, or neither does: a request
        // withdrawn (or taken back) while the offer was open must not be accepted, and its
        // requester must not be told a peer is coming.
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE support_offers SET status = $1, responded_at = $2
             WHERE id = $3 AND helper_id = $4 AND status = 'offered' AND respond_by > $2",
        )
        .bind(if accept { "accepted" } else { "declined" })
        .bind(now)
        .bind(offer_id)
        .bind(helper.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::OfferAnswered));
        }
        let moved = if accept {
            sqlx::query(
                "UPDATE support_requests SET status = 'accepted', helper_id = $1, updated_at = $2
                 WHERE id = $3 AND status = 'offered'",
            )
            .bind(helper.0)
            .bind(now)
            .bind(offer.request_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            sqlx::query(
                "UPDATE support_requests SET status = 'submitted', updated_at = $1
                 WHERE id = $2 AND status = 'offered'",
            )
            .bind(now)
            .bind(offer.request_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if moved != 1 {
            return Err(StoreError::Conflict(Conflict::RequestGoneWhileOffered));
        }
        if let (true, Some(m)) = (accept, &notice) {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        if notice.is_some() {
            self.wake_delivery();
        }
        Ok(Offer {
            status: if accept {
                OfferStatus::Accepted
            } else {
                OfferStatus::Declined
            },
            ..offer
        })
    }

    /// Helpers who declined this request or let an offer expire: not asked again.
    pub async fn helpers_passed(&self, request_id: i64) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT helper_id FROM support_offers
             WHERE request_id = $1 AND status IN ('declined', 'expired')",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| get_i64(r, "helper_id")).collect()
    }

    /// Offers past their time: marked expired, and their requests back in the queue.
    /// Returns the requests concerned.
    pub async fn expire_offers(&self) -> StoreResult<Vec<i64>> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE support_offers SET status = 'expired', responded_at = $1
             WHERE status = 'offered' AND respond_by <= $1 RETURNING request_id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        // Only the requests that did go back to the queue are passed on: one withdrawn in
        // the meantime stays withdrawn.
        let mut back = Vec::new();
        for r in &rows {
            let id = get_i64(r, "request_id")?;
            let n = sqlx::query(
                "UPDATE support_requests SET status = 'submitted', updated_at = $1
                 WHERE id = $2 AND status = 'offered'",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                back.push(id);
            }
        }
        tx.commit().await?;
        Ok(back)
    }

    /// A helper's open cases.
    pub async fn helper_cases(&self, helper: AccountId) -> StoreResult<Vec<RequestSummary>> {
        let rows = sqlx::query(
            "SELECT id FROM support_requests
             WHERE helper_id = $1 AND status IN ('accepted', 'contacted') ORDER BY created_at",
        )
        .bind(helper.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            out.push(self.support_request(get_i64(r, "id")?).await?);
        }
        Ok(out)
    }

    /// A case, for its own helper only: anyone else gets "not found", not "forbidden",
    /// so that a guessed id says nothing.
    pub async fn case_of(&self, request_id: i64, helper: AccountId) -> StoreResult<RequestSummary> {
        let row = sqlx::query("SELECT helper_id FROM support_requests WHERE id = $1")
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        if super::get_opt_i64(&row, "helper_id")? != Some(helper.0) {
            return Err(StoreError::NotFound);
        }
        self.support_request(request_id).await
    }

    /// Who asked and what they wrote, for the case's helper; the view is written to the
    /// audit log first, so there is no view without its record.
    pub async fn case_identity(
        &self,
        request_id: i64,
        helper: AccountId,
    ) -> StoreResult<(Option<Identity>, Option<String>)> {
        self.case_of(request_id, helper).await?;
        self.audit(
            Some(helper),
            "view_identity",
            &format!("support_request:{request_id}"),
        )
        .await?;
        Ok((
            self.support_identity(request_id).await?,
            self.request_message(request_id).await?,
        ))
    }

    pub async fn log_contact(
        &self,
        request_id: i64,
        helper: AccountId,
        c: &NewContact,
    ) -> StoreResult<()> {
        let r = self.case_of(request_id, helper).await?;
        check_in_progress(r.status).map_err(StoreError::Conflict)?;
        let now = self.now();
        let mut tx = self.begin_write().await?;
        // The case must still be this helper's and open when the contact is written; the
        // earliest contact is the first, whatever order they are logged in.
        let n = sqlx::query(
            "UPDATE support_requests SET status = 'contacted', updated_at = $1,
                 first_contact_at = CASE WHEN first_contact_at IS NULL OR first_contact_at > $2
                                         THEN $2 ELSE first_contact_at END
             WHERE id = $3 AND helper_id = $4 AND status IN ('accepted', 'contacted')",
        )
        .bind(now)
        .bind(c.at)
        .bind(request_id)
        .bind(helper.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::CaseChangedWhileWriting));
        }
        sqlx::query(
            "INSERT INTO support_contacts (id, request_id, contacted_at, mode, minutes, resources, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crypto::random_id())
        .bind(request_id)
        .bind(c.at)
        .bind(c.mode.key())
        .bind(i64::from(c.minutes))
        .bind(c.resources.join(","))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_contacts(&self, request_id: i64) -> StoreResult<Vec<Contact>> {
        let rows = sqlx::query(
            "SELECT contacted_at, mode, minutes, resources FROM support_contacts
             WHERE request_id = $1 ORDER BY contacted_at",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Contact {
                    at: get_i64(r, "contacted_at")?,
                    mode: ContactMode::parse(&get_string(r, "mode")?).unwrap_or(ContactMode::Email),
                    minutes: get_i64(r, "minutes")?,
                    resources: get_string(r, "resources")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                })
            })
            .collect()
    }

    /// Closes a case with its outcome; what the person wrote is erased now. When someone
    /// reached out to after a referral declines, `farewell` writes the message with the
    /// resource list, queued (sealed) in the same transaction: no further contact follows.
    pub async fn close_case(
        &self,
        request_id: i64,
        helper: AccountId,
        outcome: Outcome,
        farewell: Option<&(dyn Fn(&Identity) -> NewMessage + Sync)>,
    ) -> StoreResult<()> {
        let r = self.case_of(request_id, helper).await?;
        check_in_progress(r.status).map_err(StoreError::Conflict)?;
        let message = match farewell {
            Some(make)
                if outcome == Outcome::Declined
                    && r.channel != crate::domain::support::Channel::SelfRequest =>
            {
                self.support_identity(request_id).await?.map(|i| make(&i))
            }
            _ => None,
        };
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE support_requests SET status = 'closed', closed_at = $1, updated_at = $1,
                 outcome = $2, sealed_message = NULL
             WHERE id = $3 AND helper_id = $4 AND status IN ('accepted', 'contacted')",
        )
        .bind(now)
        .bind(outcome.key())
        .bind(request_id)
        .bind(helper.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(Conflict::CaseChanged));
        }
        if let Some(m) = &message {
            enqueue_in(&mut tx, m, self).await?;
        }
        tx.commit().await?;
        if message.is_some() {
            self.wake_delivery();
        }
        Ok(())
    }
}

impl Store {
    /// Whether coordinators work blind: they never see who asked, unless a helper
    /// escalates a safety concern.
    pub async fn coordinator_blind(&self) -> StoreResult<bool> {
        self.flag_setting("support_coordinator_blind").await
    }

    /// Switches coordinator-blind mode. A change is audited with who made it; requests
    /// filed while it was on stay blind whatever it is later.
    pub async fn set_coordinator_blind(
        &self,
        blind: bool,
        by: Option<AccountId>,
    ) -> StoreResult<()> {
        for _ in 0..10 {
            let mut tx = self.begin_write().await?;
            match super::support::put_coordinator_blind_in(&mut tx, self.now(), blind, by).await {
                Ok(()) => {}
                // Another instance appended to the audit log first: run it again.
                Err(StoreError::Database(sqlx::Error::Database(d))) if d.is_unique_violation() => {
                    continue;
                }
                Err(e) => return Err(e),
            }
            tx.commit().await?;
            return Ok(());
        }
        Err(StoreError::Conflict(Conflict::AuditBusy))
    }

    /// Whether only signed-in members may ask for support (off: anyone may).
    pub async fn support_requires_sign_in(&self) -> StoreResult<bool> {
        self.flag_setting("support_requires_sign_in").await
    }

    /// Whether people choose their helper among the best public candidates.
    pub async fn support_requester_chooses(&self) -> StoreResult<bool> {
        self.flag_setting("support_requester_chooses").await
    }

    async fn flag_setting(&self, key: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT setting_value FROM settings WHERE setting_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get_string(&r, "setting_value")? == "1",
            None => false,
        })
    }

    /// A helper raises a safety concern on their case: coordinators may now see who asked,
    /// and each is alerted. The flag, its audit entry and the alerts commit together, so
    /// a concern is never recorded without its alerts (nor alerts sent twice: raising it
    /// again changes nothing). Returns whether this call raised it.
    pub async fn escalate_case(
        &self,
        request_id: i64,
        helper: AccountId,
        alerts: &[NewMessage],
    ) -> StoreResult<bool> {
        let r = self.case_of(request_id, helper).await?;
        check_in_progress(r.status).map_err(StoreError::Conflict)?;
        for _ in 0..10 {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(
                "UPDATE support_requests SET escalated_at = $1, updated_at = $1
                 WHERE id = $2 AND helper_id = $3 AND status IN ('accepted', 'contacted')
                   AND escalated_at IS NULL",
            )
            .bind(self.now())
            .bind(request_id)
            .bind(helper.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            match super::audit::append_in(
                &mut tx,
                self.now(),
                Some(helper),
                "safety_escalation",
                &format!("support_request:{request_id}"),
            )
            .await
            {
                Ok(()) => {}
                // Another instance appended to the audit log first: run it again.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
            for m in alerts {
                enqueue_in(&mut tx, m, self).await?;
            }
            tx.commit().await?;
            self.wake_delivery();
            return Ok(true);
        }
        Err(StoreError::Conflict(Conflict::AuditBusyRaiseAgain))
    }

    /// Whether the request was filed while the programme worked coordinator-blind.
    pub async fn filed_blind(&self, request_id: i64) -> StoreResult<bool> {
        let row = sqlx::query("SELECT filed_blind FROM support_requests WHERE id = $1")
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(get_i64(&row, "filed_blind")? == 1)
    }

    pub async fn is_escalated(&self, request_id: i64) -> StoreResult<bool> {
        let row = sqlx::query("SELECT escalated_at FROM support_requests WHERE id = $1")
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(super::get_opt_i64(&row, "escalated_at")?.is_some())
    }

    /// Who asked, for a coordinator: only while the request is open, and in a
    /// coordinator-blind programme only after a safety escalation. Each view is audited
    /// before anything is opened.
    pub async fn identity_for_coordinator(
        &self,
        request_id: i64,
        coordinator: AccountId,
    ) -> StoreResult<(Option<Identity>, Option<String>)> {
        let r = self.support_request(request_id).await?;
        let target = format!("support_request:{request_id}");
        let refusal = if !r.status.is_open() {
            Some(Conflict::IdentityGone)
        } else if (self.coordinator_blind().await? || self.filed_blind(request_id).await?)
            && !self.is_escalated(request_id).await?
        {
            Some(Conflict::IdentityBlind)
        } else {
            None
        };
        // A refused look is audited too: who tried to see whom is what a reviewer asks.
        if let Some(why) = refusal {
            self.audit(
                Some(coordinator),
                "coordinator_view_identity_refused",
                &target,
            )
            .await?;
            return Err(StoreError::Conflict(why));
        }
        self.audit(Some(coordinator), "coordinator_view_identity", &target)
            .await?;
        Ok((
            self.support_identity(request_id).await?,
            self.request_message(request_id).await?,
        ))
    }
}

impl Store {
    /// The person's message, opened; None once erased. Callers audit first.
    async fn request_message(&self, request_id: i64) -> StoreResult<Option<String>> {
        use sqlx::Row;
        let row = sqlx::query("SELECT sealed_message FROM support_requests WHERE id = $1")
            .bind(request_id)
            .fetch_one(&self.pool)
            .await?;
        match row.try_get::<Option<String>, _>("sealed_message")? {
            Some(s) => self
                .data_key()?
                .open(&context(request_id, "message"), &s)
                .map(Some)
                .map_err(|_| {
                    StoreError::Unsealable("A sealed value does not open with the current key.")
                }),
            None => Ok(None),
        }
    }
}

impl Store {
    /// Takes a request back from the helper who accepted it but has not made first contact
    /// (a coordinator's decision once the service level is missed). The helper counts as
    /// having passed on it, and it returns to the queue.
    pub async fn take_back(&self, request_id: i64) -> StoreResult<()> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE support_requests SET status = 'submitted', helper_id = NULL, updated_at = $1
             WHERE id = $2 AND status = 'accepted' AND first_contact_at IS NULL
             RETURNING helper_id",
        )
        .bind(now)
        .bind(request_id)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_none() {
            return Err(StoreError::Conflict(Conflict::NotTakeBackable));
        }
        let n = sqlx::query(
            "UPDATE support_offers SET status = 'expired', responded_at = $1
             WHERE request_id = $2 AND status = 'accepted'",
        )
        .bind(now)
        .bind(request_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(Conflict::AcceptedOfferMissing));
        }
        tx.commit().await?;
        Ok(())
    }
}
