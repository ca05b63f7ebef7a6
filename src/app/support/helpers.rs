//! The helper corps: applying to help, coordinators' decisions and training records, a
//! helper's own profile, and the coordinators' view of one request.

use crate::app::{Coordinator, Error, Helper, Member, Result};
use crate::domain::accounts::{AccountId, Role};
use crate::domain::helpers::{HelperProfile, ProfileInput, parse_training};
use crate::domain::ids::{ApplicationId, RequestId};
use crate::domain::support::Identity;
use crate::domain::{Invalid, required_line, required_text};
use crate::store::{Application, HelperSummary, RequestSummary};

/// A request as a coordinator sees it: naming no one, unless they reveal who asked.
pub struct RequestView {
    pub request: RequestSummary,
    pub escalated: bool,
    /// Filed, or now handled, coordinator-blind: no shortlist, no picking by hand.
    pub blind: bool,
}

impl Member {
    /// Whether the programme asks for a current pledge signature before applying to
    /// help, and this member has none (the form says so, with the way to sign).
    #[tracing::instrument(skip_all, level = "debug", fields(member = self.id.0))]
    pub async fn pledge_needed_to_help(&self) -> Result<bool> {
        match crate::app::pledge::check_signed_for_helping(self.store(), self.id.0).await {
            Ok(()) => Ok(false),
            Err(Error::Conflict(crate::domain::conflict::Conflict::PledgeRequired)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Applies to join the helper corps; coordinators decide.
    #[tracing::instrument(skip_all, fields(member = self.id.0))]
    pub async fn apply_to_help(&self, motivation: &str, department: &str) -> Result<()> {
        let m = required_text("motivation", "A few words on why", motivation, 1000)?;
        let d = required_line("department", "Your department", department, 120)?;
        crate::app::pledge::check_signed_for_helping(self.store(), self.id.0).await?;
        self.store()
            .apply_to_help(self.id, &m, &d)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(msg) => Invalid::new("motivation", msg).into(),
                e => Error::from(e),
            })
    }
}

impl Helper {
    #[tracing::instrument(skip_all, level = "debug", fields(helper = self.id.0))]
    pub async fn profile(&self) -> Result<HelperProfile> {
        Ok(self.store().helper_profile(self.id).await?)
    }

    /// Replaces this helper's profile; a mistake names its field.
    #[tracing::instrument(skip_all, fields(helper = self.id.0))]
    pub async fn save_profile(&self, input: &ProfileInput) -> Result<HelperProfile> {
        let p = HelperProfile::parse(input)?;
        self.store().save_helper_profile(self.id, &p).await?;
        Ok(p)
    }
}

impl Coordinator {
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn helpers(&self) -> Result<Vec<HelperSummary>> {
        Ok(self.store().list_helpers().await?)
    }

    /// Applications to help that wait for a decision.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0))]
    pub async fn pending_applications(&self) -> Result<Vec<Application>> {
        Ok(self.store().applications("pending").await?)
    }

    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, application = id.0))]
    pub async fn decide_application(&self, id: ApplicationId, approve: bool) -> Result<()> {
        Ok(self
            .store()
            .decide_application(id.0, approve, self.id)
            .await?)
    }

    /// Records training a helper completed, from the form's kind and dates; only helpers
    /// have training records (anyone else is not found, whatever the form says).
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, helper = helper.0))]
    pub async fn add_training(
        &self,
        helper: AccountId,
        kind: &str,
        completed: &str,
        expires: &str,
    ) -> Result<()> {
        let account = self.store().account(helper).await?;
        if !account.has(Role::Helper) {
            return Err(Error::NotFound);
        }
        let (kind, completed_at, expires_at) =
            parse_training(kind, completed, expires, self.now())?;
        Ok(self
            .store()
            .add_training(helper, kind, completed_at, expires_at, self.id)
            .await?)
    }

    /// One request, naming no one.
    #[tracing::instrument(skip_all, level = "debug", fields(coordinator = self.id.0, request = id.0))]
    pub async fn request(&self, id: RequestId) -> Result<RequestView> {
        let request = self.store().support_request(id.0).await?;
        let escalated = self.store().is_escalated(id.0).await?;
        let blind = request.filed_blind || self.store().coordinator_blind().await?;
        Ok(RequestView {
            request,
            escalated,
            blind,
        })
    }

    /// Who asked and what they wrote, where the rules allow a coordinator to see it
    /// (each look is written to the audit log before anything is opened).
    #[tracing::instrument(skip_all, fields(coordinator = self.id.0, request = id.0))]
    pub async fn reveal(&self, id: RequestId) -> Result<(Option<Identity>, Option<String>)> {
        Ok(self.store().identity_for_coordinator(id.0, self.id).await?)
    }
}
