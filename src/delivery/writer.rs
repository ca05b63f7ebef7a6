//! Composing outgoing messages: the programme's wording and branding, the recipient's
//! values, and for optional messages a one-click unsubscribe link.

use crate::domain::content::Branding;
use crate::domain::mail::{self, MailTemplate, MessageKind};
use crate::store::{NewMessage, Store, StoreResult};

/// Everything needed to write one kind of message, loaded once; writing is then free of
/// I/O, so it can happen inside the store's transaction.
pub struct Writer {
    kind: MessageKind,
    template: MailTemplate,
    branding: Branding,
    base_url: String,
}

impl Writer {
    pub async fn load(
        store: &Store,
        public_url: &url::Url,
        kind: MessageKind,
    ) -> StoreResult<Self> {
        let [w] = Self::load_all(store, public_url, [kind]).await?;
        Ok(w)
    }

    /// Writers for several kinds, reading the branding and the wording once.
    pub async fn load_all<const N: usize>(
        store: &Store,
        public_url: &url::Url,
        kinds: [MessageKind; N],
    ) -> StoreResult<[Self; N]> {
        let branding = store.branding().await?;
        let mut templates = store.mail_templates(&kinds).await?.into_iter();
        let base_url = public_url.as_str().trim_end_matches('/').to_string();
        Ok(kinds.map(|kind| Self {
            kind,
            template: templates.next().unwrap_or_else(|| kind.default_template()),
            branding: branding.clone(),
            base_url: base_url.clone(),
        }))
    }

    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// A link to a page of the site, for the `link` placeholders.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The message to `to`. `dedupe_key` names the cause, so that it yields one message.
    pub fn to(&self, to: &str, values: &[(&str, &str)], dedupe_key: String) -> NewMessage {
        let unsubscribe = self.kind.optional().then(|| {
            let secret = crate::crypto::random_hex(20);
            let url = self.url(&format!("/unsubscribe/{secret}"));
            (secret, url)
        });
        let footer = unsubscribe
            .as_ref()
            .map(|(_, url)| mail::unsubscribe_footer(self.kind, url));
        NewMessage {
            kind: self.kind,
            dedupe_key,
            to: to.to_string(),
            composed: mail::compose(
                self.kind,
                &self.template,
                &self.branding,
                values,
                footer.as_deref(),
            ),
            attachment: None,
            unsubscribe,
            sealed: false,
        }
    }
}
