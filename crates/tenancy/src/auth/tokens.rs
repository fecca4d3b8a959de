//! Access tokens: short-lived JWTs signed with Ed25519 (EdDSA).
//!
//! Verification pins the algorithm, requires `kid`, `iss`, `aud`, `sub`, `exp` and the
//! token version, and only trusts keys from configuration. Every configured key is
//! published at `/.well-known/jwks.json` and accepted, so a new key can be published
//! before it signs and an old one kept until its tokens expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clientele_domain::{Error, Result};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub kid: String,
    /// PKCS#8 PEM of an Ed25519 private key (`openssl genpkey -algorithm ed25519`).
    pub private_key_pem: String,
}

#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: i64,
    pub keys: Vec<KeyConfig>,
    /// The key that signs; every other key only verifies. Empty: the first key.
    pub active_kid: String,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    /// The customer (tenant); absent for platform admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<Uuid>,
    /// `platform_admin` or the customer role.
    pub role: String,
    /// Token version of the user: bumping it revokes every older token.
    pub tv: i64,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_x: String,
}

pub struct Tokens {
    keys: Vec<Key>,
    active: usize,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    validation: Validation,
    /// Tokens whose signature was already checked, by SHA-256 of their text: an
    /// Ed25519 verification costs tens of microseconds, and a client sends the same
    /// token on every request. Revocation does not depend on this: the token version
    /// is read from the database on every request.
    verified: Mutex<HashMap<[u8; 32], AccessClaims>>,
}

/// Bounds the verified-token cache; when full it starts over.
const VERIFIED_MAX: usize = 10_000;

fn load_key(kid: &str, signing: &SigningKey) -> Result<Key> {
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| Error::Internal(format!("key {kid}: {e}")))?;
    let public_x = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    Ok(Key {
        kid: kid.to_string(),
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        decoding: DecodingKey::from_ed_components(&public_x)
            .map_err(|e| Error::Internal(format!("key {kid}: {e}")))?,
        public_x,
    })
}

impl Tokens {
    /// Loads the configured keys; with none, makes an ephemeral one (tokens then die
    /// with the process; fine for development and tests, logged as a warning).
    pub fn new(config: &TokenConfig) -> Result<Tokens> {
        let mut keys = Vec::new();
        for k in &config.keys {
            if k.kid.trim().is_empty() {
                return Err(Error::Internal("every auth key needs a kid".into()));
            }
            let signing = SigningKey::from_pkcs8_pem(&k.private_key_pem).map_err(|e| {
                Error::Internal(format!(
                    "auth key {}: not a PKCS#8 PEM Ed25519 private key: {e}",
                    k.kid
                ))
            })?;
            keys.push(load_key(&k.kid, &signing)?);
        }
        if keys.is_empty() {
            let mut seed = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut seed);
            let kid = format!("ephemeral-{}", &Uuid::now_v7().simple().to_string()[20..]);
            keys.push(load_key(&kid, &SigningKey::from_bytes(&seed))?);
            tracing::warn!(
                kid,
                "no auth.keys configured: signing with an ephemeral key; tokens will not survive a restart"
            );
        }
        let active = if config.active_kid.is_empty() {
            0
        } else {
            keys.iter()
                .position(|k| k.kid == config.active_kid)
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "auth.active_kid `{}` is not among auth.keys",
                        config.active_kid
                    ))
                })?
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Tokens {
            keys,
            active,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl_secs: config.access_ttl_secs,
            validation,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    /// Signs an access token for a user.
    pub fn issue(
        &self,
        user_id: Uuid,
        customer_id: Option<Uuid>,
        role: &str,
        token_version: i64,
    ) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            iat: now,
            exp: now + self.access_ttl_secs,
            cid: customer_id,
            role: role.to_string(),
            tv: token_version,
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with the active key (also used by tests to forge expiry).
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let key = &self.keys[self.active];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        encode(&header, claims, &key.encoding)
            .map_err(|e| Error::Internal(format!("cannot sign a token: {e}")))
    }

    /// Verifies signature, algorithm, key id, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Ok(mut cache) = self.verified.lock() {
            match cache.get(&digest) {
                Some(claims) if claims.exp > now => return Ok(claims.clone()),
                Some(_) => {
                    cache.remove(&digest);
                }
                None => {}
            }
        }
        let claims = self.verify_signed(token)?;
        if claims.exp > now {
            if let Ok(mut cache) = self.verified.lock() {
                if cache.len() >= VERIFIED_MAX {
                    cache.clear();
                }
                cache.insert(digest, claims.clone());
            }
        }
        Ok(claims)
    }

    fn verify_signed(&self, token: &str) -> Result<AccessClaims> {
        let header = decode_header(token)
            .map_err(|_| Error::Unauthorized("the access token is malformed".into()))?;
        if header.alg != Algorithm::EdDSA {
            return Err(Error::Unauthorized(
                "the token algorithm is not accepted".into(),
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| Error::Unauthorized("the token has no key id".into()))?;
        let key =
            self.keys.iter().find(|k| k.kid == kid).ok_or_else(|| {
                Error::Unauthorized("the token is signed with an unknown key".into())
            })?;
        decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired",
                    ErrorKind::InvalidSignature => "the token signature is invalid",
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        "the token was not issued for this service"
                    }
                    _ => "the access token is invalid",
                };
                Error::Unauthorized(why.into())
            })
    }

    /// The public keys as a JWK Set.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": k.kid,
                    "x": k.public_x,
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(keys: Vec<KeyConfig>, active: &str) -> TokenConfig {
        TokenConfig {
            issuer: "clientele".into(),
            audience: "clientele-api".into(),
            access_ttl_secs: 900,
            keys,
            active_kid: active.into(),
        }
    }

    fn pem() -> String {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn issue_and_verify() {
        let t = Tokens::new(&config(vec![], "")).unwrap();
        let user = Uuid::now_v7();
        let cid = Uuid::now_v7();
        let token = t.issue(user, Some(cid), "owner", 3).unwrap();
        let claims = t.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.cid, claims.tv), (user, Some(cid), 3));
        assert_eq!(claims.role, "owner");
    }

    #[test]
    fn rejects_forgeries() {
        let a = Tokens::new(&config(vec![], "")).unwrap();
        let b = Tokens::new(&config(vec![], "")).unwrap();
        let token = a.issue(Uuid::now_v7(), None, "platform_admin", 1).unwrap();
        // Signed by a key this service does not know.
        assert!(matches!(b.verify(&token), Err(Error::Unauthorized(_))));
        // Tampered payload.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["role"] = json!("owner");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(a.verify(&parts.join(".")).is_err());
        // alg: none.
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(a.verify(&format!("{none_header}.{}.", parts[1])).is_err());
        // HS256 with the public key as secret (algorithm confusion).
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"x"),
        )
        .unwrap();
        assert!(a.verify(&hs).is_err());
        // Expired.
        let mut expired = a.verify(&token).unwrap();
        expired.exp = chrono::Utc::now().timestamp() - 60;
        assert!(a.verify(&a.sign(&expired).unwrap()).is_err());
        // Wrong audience.
        let mut other = a.verify(&token).unwrap();
        other.aud = "someone-else".into();
        assert!(a.verify(&a.sign(&other).unwrap()).is_err());
        assert!(a.verify("garbage").is_err());
    }

    #[test]
    fn verified_tokens_are_remembered_until_they_expire() {
        let a = Tokens::new(&config(vec![], "")).unwrap();
        let token = a.issue(Uuid::now_v7(), None, "platform_admin", 1).unwrap();
        let claims = a.verify(&token).unwrap();
        assert_eq!(a.verify(&token).unwrap(), claims);
        // A tampered copy is another text: it is verified, and refused.
        let tampered = format!("{token}x");
        assert!(a.verify(&tampered).is_err());
        // What the cache holds for a text is what verify answers while it is valid...
        let digest = |t: &str| -> [u8; 32] { Sha256::digest(t.as_bytes()).into() };
        let mut planted = claims.clone();
        planted.role = "planted".into();
        a.verified
            .lock()
            .unwrap()
            .insert(digest("not-a-jwt"), planted);
        assert_eq!(a.verify("not-a-jwt").unwrap().role, "planted");
        // ...and never once expired: then the text is verified again, and refused.
        let mut stale = claims.clone();
        stale.exp = chrono::Utc::now().timestamp() - 1;
        a.verified
            .lock()
            .unwrap()
            .insert(digest("not-a-jwt"), stale);
        assert!(a.verify("not-a-jwt").is_err());
        assert!(!a
            .verified
            .lock()
            .unwrap()
            .contains_key(&digest("not-a-jwt")));
    }

    #[test]
    fn rotation_publishes_and_accepts_every_key() {
        let (old, new) = (pem(), pem());
        let before = Tokens::new(&config(
            vec![KeyConfig {
                kid: "old".into(),
                private_key_pem: old.clone(),
            }],
            "",
        ))
        .unwrap();
        let old_token = before
            .issue(Uuid::now_v7(), None, "platform_admin", 1)
            .unwrap();
        let after = Tokens::new(&config(
            vec![
                KeyConfig {
                    kid: "old".into(),
                    private_key_pem: old,
                },
                KeyConfig {
                    kid: "new".into(),
                    private_key_pem: new,
                },
            ],
            "new",
        ))
        .unwrap();
        assert!(after.verify(&old_token).is_ok(), "old tokens stay valid");
        let new_token = after
            .issue(Uuid::now_v7(), None, "platform_admin", 1)
            .unwrap();
        assert_eq!(
            decode_header(&new_token).unwrap().kid.as_deref(),
            Some("new")
        );
        let kids: Vec<String> = after.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kids, ["old", "new"]);
        assert!(Tokens::new(&config(vec![], "missing")).is_err());
    }
}
