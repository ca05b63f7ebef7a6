//! The editable wording of messages, and people's choices about optional ones.

use super::{Store, StoreError, StoreResult, get_string};
use crate::crypto;
use crate::domain::accounts::AccountId;
use crate::domain::conflict::Conflict;
use crate::domain::mail::{MailTemplate, MessageKind};

impl Store {
    /// The wording in use for a kind: the programme's own, or the default.
    pub async fn mail_template(&self, kind: MessageKind) -> StoreResult<MailTemplate> {
        let mut one = self.mail_templates(&[kind]).await?;
        Ok(one.pop().unwrap_or_else(|| kind.default_template()))
    }

    /// The wording of several kinds in one query (the table holds only changed ones).
    pub async fn mail_templates(&self, kinds: &[MessageKind]) -> StoreResult<Vec<MailTemplate>> {
        let rows = sqlx::query("SELECT kind, subject, body FROM mail_templates")
            .fetch_all(&self.pool)
            .await?;
        kinds
            .iter()
            .map(|k| {
                for r in &rows {
                    if get_string(r, "kind")? == k.key() {
                        return Ok(MailTemplate {
                            subject: get_string(r, "subject")?,
                            body: get_string(r, "body")?,
                        });
                    }
                }
                Ok(k.default_template())
            })
            .collect()
    }

    /// The kinds whose wording the programme has changed.
    pub async fn customised_mail_kinds(&self) -> StoreResult<Vec<MessageKind>> {
        let rows = sqlx::query("SELECT kind FROM mail_templates")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(k) = MessageKind::parse(&get_string(&r, "kind")?) {
                out.push(k);
            }
        }
        Ok(out)
    }

    pub async fn save_mail_template(
        &self,
        kind: MessageKind,
        t: &MailTemplate,
        by: AccountId,
    ) -> StoreResult<()> {
        self.write_one(sqlx::query(
            "INSERT INTO mail_templates (kind, subject, body, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind) DO UPDATE SET subject = $2, body = $3, updated_at = $4, updated_by = $5",
        )
        .bind(kind.key())
        .bind(&t.subject)
        .bind(&t.body)
        .bind(self.now())
        .bind(by.0))
        .await?;
        Ok(())
    }

    /// Goes back to the default wording.
    pub async fn reset_mail_template(&self, kind: MessageKind) -> StoreResult<()> {
        self.write_one(sqlx::query("DELETE FROM mail_templates WHERE kind = $1").bind(kind.key()))
            .await?;
        Ok(())
    }

    /// The optional kinds an address has switched off.
    pub async fn mail_optouts(&self, address: &str) -> StoreResult<Vec<MessageKind>> {
        let rows = sqlx::query("SELECT kind FROM mail_optouts WHERE address = $1")
            .bind(address.trim().to_lowercase())
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(k) = MessageKind::parse(&get_string(&r, "kind")?) {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// Switches an optional kind off (`receive = false`) or back on for an address.
    /// Messages a case or registration depends on cannot be switched off.
    pub async fn set_mail_choice(
        &self,
        address: &str,
        kind: MessageKind,
        receive: bool,
    ) -> StoreResult<()> {
        if !kind.optional() {
            return Err(StoreError::Conflict(Conflict::MessageRequired));
        }
        let address = address.trim().to_lowercase();
        if receive {
            self.write_one(
                sqlx::query("DELETE FROM mail_optouts WHERE address = $1 AND kind = $2")
                    .bind(&address)
                    .bind(kind.key()),
            )
            .await?;
        } else {
            self.write_one(
                sqlx::query(
                    "INSERT INTO mail_optouts (address, kind, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (address, kind) DO NOTHING",
                )
                .bind(&address)
                .bind(kind.key())
                .bind(self.now()),
            )
            .await?;
        }
        Ok(())
    }

    /// Whether this address has switched this kind of message off.
    pub async fn is_opted_out(&self, address: &str, kind: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 AS x FROM mail_optouts WHERE address = $1 AND kind = $2")
                .bind(address.trim().to_lowercase())
                .bind(kind)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// What an unsubscribe link stops: the kind it was made for. The address is not
    /// returned, so the page shown to whoever holds the link does not reveal it.
    pub async fn unsubscribe_link_kind(&self, secret: &str) -> StoreResult<MessageKind> {
        let row = sqlx::query("SELECT kind FROM unsubscribe_links WHERE token_digest = $1")
            .bind(crypto::secret_digest(secret))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        MessageKind::parse(&get_string(&row, "kind")?).ok_or(StoreError::NotFound)
    }

    /// Follows an unsubscribe link: switches its kind off for its address. Using it twice
    /// is harmless.
    pub async fn unsubscribe(&self, secret: &str) -> StoreResult<MessageKind> {
        let row =
            sqlx::query("SELECT address, kind FROM unsubscribe_links WHERE token_digest = $1")
                .bind(crypto::secret_digest(secret))
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let kind = MessageKind::parse(&get_string(&row, "kind")?).ok_or(StoreError::NotFound)?;
        self.set_mail_choice(&get_string(&row, "address")?, kind, false)
            .await?;
        Ok(kind)
    }

    /// Forgets unsubscribe links older than `before`: a year-old message's link expires.
    pub async fn prune_unsubscribe_links(&self, before: i64) -> StoreResult<u64> {
        self.write_one(
            sqlx::query("DELETE FROM unsubscribe_links WHERE created_at < $1").bind(before),
        )
        .await
    }
}
