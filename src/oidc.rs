//! The OpenID Connect relying party: discovery, the authorization request (code flow with
//! PKCE, state and nonce) and the checks on the answer (ID-token signature, issuer,
//! audience, expiry, nonce, access-token hash; the user-info subject). It turns a good
//! answer into a `domain::sign_in::ExternalIdentity`; what the programme makes of that
//! is decided in `app::sign_in`. Failures are logged here, with what failed and never
//! with a token, and reach callers as a `Refusal` a person can read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{IdentityClaim, OidcConfig};
use crate::domain::sign_in::{ExternalIdentity, Refusal, SignInPolicy};

/// Claims beyond the standard ones (groups, app roles, Entra's `oid` and `tid`), kept
/// as they came, for the programme's rules to look at.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    all: BTreeMap<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery found, kept for a while: keys rotate, so it is fetched again after
/// `REDISCOVER_AFTER`, and at once when a token names a key it does not have.
struct Discovered {
    client: Client,
    end_session: Option<EndSessionUrl>,
    at: Instant,
}

const REDISCOVER_AFTER: Duration = Duration::from_secs(15 * 60);
/// After a failed discovery, how long before the provider is asked again.
const RETRY_DISCOVERY_AFTER: Duration = Duration::from_secs(30);
/// How long the provider has to answer each request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A sign-in on its way to the provider: the browser goes to `url`; the rest is kept
/// (the state in the browser's cookie and, as a digest, in the database) for the answer.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The institution's provider, as configured.
pub struct Provider {
    cfg: OidcConfig,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    http: reqwest::Client,
    discovered: tokio::sync::Mutex<Option<Arc<Discovered>>>,
    /// When discovery last failed: while the provider is down, sign-ins are refused at
    /// once for a little while rather than each waiting on it.
    failed_at: std::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.cfg.issuer)
            .finish_non_exhaustive()
    }
}

/// Where the provider sends people back to, below the public URL.
pub const CALLBACK_PATH: &str = "/signin/oidc/callback";

impl Provider {
    pub fn new(cfg: OidcConfig, public_url: &url::Url) -> anyhow::Result<Self> {
        let base = public_url.as_str().trim_end_matches('/');
        let redirect = RedirectUrl::new(format!("{base}{CALLBACK_PATH}"))?;
        let post_logout = PostLogoutRedirectUrl::new(format!("{base}/"))?;
        let http = reqwest::Client::builder()
            // A redirect followed here could be steered at the network inside the
            // institution (SSRF); a provider that redirects its endpoints is refused.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self {
            cfg,
            redirect,
            post_logout,
            http,
            discovered: tokio::sync::Mutex::new(None),
            failed_at: std::sync::Mutex::new(None),
        })
    }

    pub fn button_label(&self) -> &str {
        &self.cfg.button_label
    }

    pub fn password_sign_in(&self) -> bool {
        self.cfg.password_sign_in
    }

    pub fn policy(&self) -> &SignInPolicy {
        &self.cfg.policy
    }

    /// The name identities of this provider are kept under (its issuer).
    pub fn issuer(&self) -> &str {
        &self.cfg.issuer
    }

    /// The issuer's origin (`https://login.example.edu`): pages allow their forms to lead
    /// there (the sign-out form ends at the provider's logout page).
    pub fn origin(&self) -> String {
        url::Url::parse(&self.cfg.issuer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    async fn discover(&self, fresh: bool) -> Result<Arc<Discovered>, Refusal> {
        let mut cached = self.discovered.lock().await;
        if let Some(d) = cached.as_ref()
            && !fresh
            && d.at.elapsed() < REDISCOVER_AFTER
        {
            return Ok(d.clone());
        }
        let recently_failed = self
            .failed_at
            .lock()
            .map(|f| f.is_some_and(|at| at.elapsed() < RETRY_DISCOVERY_AFTER))
            .unwrap_or(false);
        if recently_failed {
            return match cached.as_ref() {
                Some(d) if !fresh => Ok(d.clone()),
                _ => Err(Refusal::ProviderUnavailable),
            };
        }
        let issuer = IssuerUrl::new(self.cfg.issuer.clone()).map_err(|e| {
            tracing::error!(error = %e, "the OpenID issuer is not a URL");
            Refusal::ProviderUnavailable
        })?;
        let metadata = match ProviderMetadataWithLogout::discover_async(issuer, &self.http).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), issuer = %self.cfg.issuer, "OpenID discovery failed");
                if let Ok(mut f) = self.failed_at.lock() {
                    *f = Some(Instant::now());
                }
                // What the provider published before still holds for a while.
                return match cached.as_ref() {
                    Some(d) if !fresh => Ok(d.clone()),
                    _ => Err(Refusal::ProviderUnavailable),
                };
            }
        };
        if let Ok(mut f) = self.failed_at.lock() {
            *f = None;
        }
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = Client::from_provider_metadata(
            metadata,
            ClientId::new(self.cfg.client_id.clone()),
            Some(ClientSecret::new(self.cfg.client_secret.0.clone())),
        )
        .set_redirect_uri(self.redirect.clone());
        let d = Arc::new(Discovered {
            client,
            end_session,
            at: Instant::now(),
        });
        *cached = Some(d.clone());
        Ok(d)
    }

    /// The address to send the browser to, with what the answer will be checked against.
    pub async fn start(&self) -> Result<Started, Refusal> {
        let d = self.discover(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d.client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            // Hex, as every wecare cookie value is.
            || CsrfToken::new(crate::crypto::random_hex(32)),
            Nonce::new_random,
        );
        for scope in self.cfg.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Trades the code for tokens and checks them; then reads the user-info endpoint for
    /// what the ID token left out (some providers put only `sub` in it).
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<ExternalIdentity, Refusal> {
        let d = self.discover(false).await?;
        let request = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| {
                tracing::warn!(error = %e, "the provider has no token endpoint");
                Refusal::ProviderUnavailable
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()));
        let tokens = request.request_async(&self.http).await.map_err(|e| {
            let refusal = match &e {
                // The code was used, has expired, or is not this client's.
                RequestTokenError::ServerResponse(r)
                    if *r.error() == CoreErrorResponseType::InvalidGrant =>
                {
                    Refusal::Expired
                }
                _ => Refusal::ProviderUnavailable,
            };
            tracing::warn!(error = request_failed(&e), "the provider refused the code");
            refusal
        })?;
        let id_token = tokens.id_token().ok_or_else(|| {
            tracing::warn!("the token response has no ID token");
            Refusal::Tampered
        })?;
        let nonce = Nonce::new(nonce.to_string());
        let verified = {
            let verifier = signed_by_the_provider(&d.client);
            id_token.claims(&verifier, &nonce).cloned()
        };
        // A key the cached set lacks: the provider may have rotated its keys since.
        let (d, claims) = match verified {
            Ok(c) => (d, c),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let d = self.discover(true).await?;
                let claims = {
                    let verifier = signed_by_the_provider(&d.client);
                    id_token
                        .claims(&verifier, &nonce)
                        .map_err(|e| {
                            tracing::warn!(
                                error = check_failed(&e),
                                "the ID token failed its checks"
                            );
                            Refusal::Tampered
                        })?
                        .clone()
                };
                (d, claims)
            }
            Err(e) => {
                tracing::warn!(error = check_failed(&e), "the ID token failed its checks");
                return Err(Refusal::Tampered);
            }
        };
        // The library leaves `azp` alone: a token issued to another client is refused.
        if claims
            .authorized_party()
            .is_some_and(|azp| azp.as_str() != self.cfg.client_id)
        {
            tracing::warn!("the ID token was issued to another client (azp)");
            return Err(Refusal::Tampered);
        }
        if let Some(expected) = claims.access_token_hash() {
            let verifier = signed_by_the_provider(&d.client);
            let actual = id_token
                .signing_alg()
                .ok()
                .zip(id_token.signing_key(&verifier).ok())
                .and_then(|(alg, key)| {
                    AccessTokenHash::from_token(tokens.access_token(), alg, key).ok()
                });
            if actual.as_ref() != Some(expected) {
                tracing::warn!("the access token does not match the ID token's at_hash");
                return Err(Refusal::Tampered);
            }
        }
        let mut who = ExternalIdentity {
            subject: String::new(),
            email: claims.email().map(|e| e.as_str().to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            claims: string_claims(&claims.additional_claims().all),
        };
        let sub = claims.subject().clone();
        if who.email.is_none() || who.name.is_none() || self.lacks_policy_claims(&who) {
            // No user-info endpoint: the ID token is all there is.
            if let Ok(request) = d
                .client
                .user_info(tokens.access_token().clone(), Some(sub.clone()))
            {
                let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> =
                    request.request_async(&self.http).await.map_err(|e| {
                        tracing::warn!(
                            error = user_info_failed(&e),
                            "the user-info request failed"
                        );
                        Refusal::ProviderUnavailable
                    })?;
                if who.email.is_none() {
                    who.email = info.email().map(|e| e.as_str().to_string());
                    who.email_verified = info.email_verified().unwrap_or(false);
                }
                if who.name.is_none() {
                    who.name = info
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_string());
                }
                for (k, v) in string_claims(&info.additional_claims().all) {
                    who.claims.entry(k).or_insert(v);
                }
            }
        }
        who.subject = match self.cfg.identity_claim {
            IdentityClaim::Subject => sub.as_str().to_string(),
            IdentityClaim::EntraObjectId => {
                let one = |k: &str| who.claims.get(k).and_then(|v| v.first()).cloned();
                match (one("tid"), one("oid")) {
                    (Some(tid), Some(oid)) => format!("{tid}/{oid}"),
                    _ => {
                        tracing::warn!("identity_claim is 'oid' but the token has no tid/oid");
                        return Err(Refusal::Tampered);
                    }
                }
            }
        };
        if who.subject.is_empty() || who.subject.len() > 255 {
            return Err(Refusal::Tampered);
        }
        Ok(who)
    }

    fn lacks_policy_claims(&self, who: &ExternalIdentity) -> bool {
        let p = &self.cfg.policy;
        p.required
            .iter()
            .chain(p.roles.iter().map(|(_, c)| c))
            .any(|c| !who.claims.contains_key(&c.claim))
    }

    /// Where to send the browser to end the provider's session too, if it offers that.
    pub async fn logout_url(&self) -> Option<String> {
        let d = self.discover(false).await.ok()?;
        let end = d.end_session.clone()?;
        // The pages' Content-Security-Policy lets the sign-out form lead to the issuer's
        // origin only; a logout page elsewhere would be blocked by the browser.
        let end_origin = url::Url::parse(end.as_str())
            .ok()?
            .origin()
            .ascii_serialization();
        if end_origin != self.origin() {
            tracing::warn!(
                "the provider's logout page is not at its issuer's origin; signing out ends the wecare session only"
            );
            return None;
        }
        Some(
            LogoutRequest::from(end)
                .set_client_id(ClientId::new(self.cfg.client_id.clone()))
                .set_post_logout_redirect_uri(self.post_logout.clone())
                .http_get_url()
                .to_string(),
        )
    }
}

/// Claims as lists of strings: a list of strings stays one, a single value becomes a list
/// of one, anything else (objects) is left out.
fn string_claims(all: &BTreeMap<String, Value>) -> BTreeMap<String, Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    all.iter()
        .filter_map(|(k, v)| {
            let values: Vec<String> = match v {
                Value::Array(items) => items.iter().filter_map(one).collect(),
                other => one(other).into_iter().collect(),
            };
            (!values.is_empty()).then(|| (k.clone(), values))
        })
        .collect()
}

/// Which check an ID token failed, in words that carry none of its values (the
/// library's messages quote claims, which can be addresses or names).
fn check_failed(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidAudience(_) => "audience",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer",
        ClaimsVerificationError::InvalidNonce(_) => "nonce",
        ClaimsVerificationError::InvalidSubject(_) => "subject",
        ClaimsVerificationError::SignatureVerification(_) => "signature",
        ClaimsVerificationError::Unsupported(_) => "unsupported",
        ClaimsVerificationError::InvalidAuthContext(_)
        | ClaimsVerificationError::InvalidAuthTime(_)
        | ClaimsVerificationError::Other(_) => "other",
        _ => "other",
    }
}

/// What went wrong with a request to the provider, without the response's text.
fn request_failed<RE: std::error::Error + 'static>(
    e: &RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => format!("the provider answered {:?}", r.error()),
        RequestTokenError::Request(r) => format!("no answer: {}", error_chain(r)),
        RequestTokenError::Parse(_, _) => "an answer that is not OpenID".to_string(),
        RequestTokenError::Other(_) => "unexpected".to_string(),
    }
}

/// What went wrong reading the user-info endpoint, without the response's text.
fn user_info_failed<RE: std::error::Error + 'static>(
    e: &openidconnect::UserInfoError<RE>,
) -> String {
    use openidconnect::UserInfoError as U;
    match e {
        U::ClaimsVerification(c) => format!("its claims failed the {} check", check_failed(c)),
        U::Parse(_) => "an answer that is not OpenID".to_string(),
        U::Request(r) => format!("no answer: {}", error_chain(r)),
        U::Response(status, _, _) => format!("the provider answered {status}"),
        U::Other(_) => "unexpected".to_string(),
        _ => "unexpected".to_string(),
    }
}

/// The ID token checker, held to the asymmetric algorithms: a token signed with the
/// client secret (HS256), which a provider may advertise, is not accepted.
fn signed_by_the_provider(client: &Client) -> openidconnect::IdTokenVerifier<'_, CoreJsonWebKey> {
    use openidconnect::core::CoreJwsSigningAlgorithm as A;
    client.id_token_verifier().set_allowed_algs([
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EcdsaP521Sha512,
        A::EdDsa,
    ])
}

/// An error and its causes on one line (reqwest hides the useful part in a source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_become_lists_of_strings() {
        let all: BTreeMap<String, Value> = serde_json::from_value(serde_json::json!({
            "groups": ["a", "b", 3],
            "tid": "t-1",
            "flag": true,
            "address": {"street": "x"},
            "empty": [],
        }))
        .expect("json");
        let got = string_claims(&all);
        assert_eq!(got["groups"], ["a", "b", "3"]);
        assert_eq!(got["tid"], ["t-1"]);
        assert_eq!(got["flag"], ["true"]);
        assert!(!got.contains_key("address") && !got.contains_key("empty"));
    }
}
