//! The programme's messages: their wording, who has switched which off, and the outbox
//! administrators watch. Sending is `delivery`'s; this is what people may change.

use super::{Admin, Coordinator, Member, Public, Result};
use crate::domain::content::Branding;
use crate::domain::ids::MessageId;
use crate::domain::mail::{MailTemplate, MessageKind};
use crate::store::{JobInfo, OutboxEntry, OutboxStatus};

impl Coordinator {
    /// The kinds whose wording the programme changed.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn customised_mail_kinds(&self) -> Result<Vec<MessageKind>> {
        Ok(self.store().customised_mail_kinds().await?)
    }

    /// The wording in use for a kind (the programme's, or the default).
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn mail_template(&self, kind: MessageKind) -> Result<MailTemplate> {
        Ok(self.store().mail_template(kind).await?)
    }

    /// The wording of several kinds, in one query.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn mail_templates(&self, kinds: &[MessageKind]) -> Result<Vec<MailTemplate>> {
        Ok(self.store().mail_templates(kinds).await?)
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn save_mail_template(&self, kind: MessageKind, t: &MailTemplate) -> Result<()> {
        Ok(self.store().save_mail_template(kind, t, self.id).await?)
    }

    /// Goes back to the default wording.
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0))]
    pub async fn reset_mail_template(&self, kind: MessageKind) -> Result<()> {
        Ok(self.store().reset_mail_template(kind).await?)
    }

    /// The branding a preview of a message is drawn with.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn branding_for_preview(&self) -> Result<Branding> {
        Ok(self.store().branding().await?)
    }
}

impl Member {
    /// The optional kinds, each with whether this person receives it.
    #[tracing::instrument(skip_all, level = "debug", fields(member = self.id.0))]
    pub async fn mail_choices(&self) -> Result<Vec<(MessageKind, bool)>> {
        let off = self.store().mail_optouts(self.email.as_str()).await?;
        Ok(MessageKind::ALL
            .into_iter()
            .filter(|k| k.optional())
            .map(|k| (k, !off.contains(&k)))
            .collect())
    }

    /// Switches optional kinds on or off for this person. Kinds a case or a registration
    /// depends on cannot be switched off (refused as a conflict).
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn set_mail_choices(&self, choices: &[(MessageKind, bool)]) -> Result<()> {
        for (kind, receive) in choices {
            self.store()
                .set_mail_choice(self.email.as_str(), *kind, *receive)
                .await?;
        }
        Ok(())
    }
}

impl Public {
    /// What an unsubscribe link would switch off (its secret is the authority).
    #[tracing::instrument(skip_all, level = "debug")]
    pub async fn unsubscribe_link_kind(&self, secret: &str) -> Result<MessageKind> {
        Ok(self.store().unsubscribe_link_kind(secret).await?)
    }

    /// Switches off the kind an unsubscribe link is for.
    #[tracing::instrument(skip_all)]
    pub async fn unsubscribe(&self, secret: &str) -> Result<MessageKind> {
        Ok(self.store().unsubscribe(secret).await?)
    }
}

impl Admin {
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, i64)>> {
        Ok(self.store().outbox_counts().await?)
    }

    /// The newest messages, optionally of one status.
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn outbox(
        &self,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>> {
        Ok(self.store().list_outbox(status, limit).await?)
    }

    /// The timed jobs and how their last runs went.
    #[tracing::instrument(skip_all, level = "debug", fields(admin = self.id.0))]
    pub async fn jobs(&self) -> Result<Vec<JobInfo>> {
        Ok(self.store().list_jobs().await?)
    }

    /// Puts a failed or cancelled message back in the queue.
    #[tracing::instrument(skip_all, fields(admin = self.id.0, message = id.0))]
    pub async fn retry_message(&self, id: MessageId) -> Result<()> {
        Ok(self.store().requeue_message(id.0).await?)
    }

    /// Stops a queued or failed message.
    #[tracing::instrument(skip_all, fields(admin = self.id.0, message = id.0))]
    pub async fn cancel_message(&self, id: MessageId) -> Result<()> {
        Ok(self.store().cancel_message(id.0).await?)
    }

    /// Queues a test message to this administrator through the configured route.
    #[tracing::instrument(skip_all, fields(admin = self.id.0))]
    pub async fn send_test_message(&self) -> Result<()> {
        let writer = crate::delivery::Writer::load(
            self.store(),
            self.app().public_url(),
            MessageKind::TestMessage,
        )
        .await?;
        let m = writer.to(
            self.email.as_str(),
            &[("link", &writer.url("/admin/outbox"))],
            format!("test_message:{}", crate::crypto::random_hex(12)),
        );
        self.store().enqueue(&m).await?;
        Ok(())
    }
}
