//! One patient per store (docs/adr/0008-sync-engine.md, "One patient per store").
//!
//! A store belongs to the (region, patient) pair of its first successful login. The
//! pair is sealed in `sync_meta` in the transaction that stores that first session and
//! stays until the store is wiped (logout wipes); an expired or revoked refresh token
//! does not touch it. A later login whose token names another patient, or a login to
//! another region, is refused with [`SyncError::AnotherPatient`] before its session,
//! refresh token or access token is kept, so nothing of this store is ever sent with
//! another patient as subject and no download cursor carries over. Readings captured
//! before the first login belong to whoever logs in first.
//!
//! Regions are compared by their FHIR base normalised (scheme and host in lower case,
//! no default port, no trailing slash, no query or fragment), so the same region typed
//! with or without a final `/` is not refused by accident.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Region, SESSION_KEY, SyncError, lock};
use crate::store::StoreError;
use crate::store::outbox;
use crate::sync::auth::{self, LoggedIn, Session};

/// Sealed sync metadata: whose store this is. Not under `login/`, so nothing that
/// clears login state (a dead refresh token) can clear it.
pub(super) const OWNER_KEY: &str = "store/owner";

/// Whose data a store holds: the region (normalised FHIR base) and the patient's id
/// there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoreOwner {
    /// The region's FHIR base, normalised ([`normalized_base`]).
    fhir_base: String,
    /// The patient's FHIR id at that region.
    patient: String,
}

impl StoreOwner {
    /// The owner a session names.
    pub(super) fn of(session: &Session) -> StoreOwner {
        StoreOwner {
            fhir_base: normalized_base(&session.fhir_base),
            patient: session.patient.clone(),
        }
    }
}

/// A FHIR base as compared: parsed (which lower-cases scheme and host and drops a
/// default port), without query, fragment or trailing slashes. Text that does not parse
/// is compared as given, less trailing slashes.
pub(super) fn normalized_base(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let path = url.path().trim_end_matches('/').to_owned();
            url.set_path(&path);
            url.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => raw.trim().trim_end_matches('/').to_owned(),
    }
}

/// Whether a login as `new` may use a store owned by `owner` (`None`: never logged in).
/// The refusal names neither side.
pub(super) fn check_owner(owner: Option<&StoreOwner>, new: &StoreOwner) -> Result<(), SyncError> {
    match owner {
        Some(owner) if owner != new => Err(SyncError::AnotherPatient),
        _ => Ok(()),
    }
}

impl Region<'_> {
    /// Keeps a login the region granted, or refuses it: in one transaction, reads whose
    /// store this is (a store from before the binding was kept belongs to the patient of
    /// its session), refuses another patient or region, and stores the session, the
    /// refresh token and, at the first login, the owner. Only then is the access token
    /// put in memory. A refused login's tokens are revoked (best effort) and forgotten.
    pub(super) async fn keep_login(&self, logged_in: LoggedIn) -> Result<String, SyncError> {
        let new_owner = StoreOwner::of(&logged_in.session);
        let owner_bytes = serde_json::to_vec(&new_owner).map_err(|_| StoreError::Decode)?;
        let session = serde_json::to_vec(&logged_in.session).map_err(|_| StoreError::Decode)?;
        let kept = self.nara.store.write(|tx, k| {
            let stored = outbox::meta_get(tx, k, OWNER_KEY)?;
            let owner = match &stored {
                Some(raw) => Some(
                    serde_json::from_slice::<StoreOwner>(raw).map_err(|_| StoreError::Decode)?,
                ),
                None => match outbox::meta_get(tx, k, SESSION_KEY)? {
                    Some(raw) => Some(StoreOwner::of(
                        &serde_json::from_slice::<Session>(&raw).map_err(|_| StoreError::Decode)?,
                    )),
                    None => None,
                },
            };
            check_owner(owner.as_ref(), &new_owner)?;
            if stored.is_none() {
                outbox::meta_put(tx, k, OWNER_KEY, &owner_bytes)?;
            }
            outbox::meta_put(tx, k, SESSION_KEY, &session)?;
            outbox::meta_put(
                tx,
                k,
                super::REFRESH_KEY,
                logged_in.refresh_token.secret().as_bytes(),
            )?;
            Ok::<_, SyncError>(())
        });
        if let Err(e) = kept {
            if matches!(e, SyncError::AnotherPatient) {
                tracing::warn!(
                    "a login for another patient or region was refused; this store keeps its own"
                );
                self.revoke_refused(&logged_in).await;
            }
            return Err(e);
        }
        *self.state().access.lock().await = Some(logged_in.access);
        lock(&self.state().status).login_required = false;
        self.publish();
        Ok(logged_in.session.patient)
    }

    /// Revokes the refresh token of a refused login at its region (best effort: if that
    /// fails it expires unused; it is never stored).
    async fn revoke_refused(&self, refused: &LoggedIn) {
        let revoked = match self.http(std::time::Duration::from_secs(10)) {
            Ok(http) => auth::revoke(&http, &refused.session, refused.refresh_token.clone())
                .await
                .map_err(SyncError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = revoked {
            tracing::warn!(error = %e, "revoking the refused login failed; it expires unused");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Nara;
    use crate::domain::reading::{Measurement, NewReading};
    use crate::sync::auth::AccessToken;
    use oauth2::RefreshToken;

    const BASE: &str = "https://fhir.region.se/fhir";

    fn owner(base: &str, patient: &str) -> StoreOwner {
        StoreOwner {
            fhir_base: normalized_base(base),
            patient: patient.to_owned(),
        }
    }

    fn login(nara: &Nara, base: &str, patient: &str, token: &str) -> LoggedIn {
        LoggedIn {
            session: Session {
                fhir_base: base.to_owned(),
                client_id: "nara-app".into(),
                token_endpoint: "https://login.region.se/token".into(),
                revocation_endpoint: None,
                patient: patient.to_owned(),
            },
            access: AccessToken {
                secret: format!("access-{token}"),
                use_until: nara.now() + jiff::SignedDuration::from_secs(600),
            },
            refresh_token: RefreshToken::new(format!("refresh-{token}")),
        }
    }

    fn open(dir: &tempfile::TempDir) -> Nara {
        let keys = std::sync::Arc::new(crate::FileKeyProvider::new(dir.path().join("device.key")));
        Nara::open(dir.path(), keys).expect("opens")
    }

    fn refresh_secret(nara: &Nara) -> Option<String> {
        nara.region()
            .refresh_token()
            .expect("reads")
            .map(|t| t.secret().clone())
    }

    async fn access_secret(nara: &Nara) -> Option<String> {
        nara.region()
            .state()
            .access
            .lock()
            .await
            .as_ref()
            .map(|t| t.secret.clone())
    }

    #[test]
    fn the_same_region_is_recognised_however_its_base_is_spelled() {
        let anna = owner(BASE, "anna-1");
        for same in [
            "https://fhir.region.se/fhir/",
            "https://fhir.region.se/fhir//",
            "HTTPS://FHIR.Region.SE/fhir",
            "https://fhir.region.se:443/fhir",
            "https://fhir.region.se/fhir?x=1",
            " https://fhir.region.se/fhir ",
        ] {
            assert_eq!(
                check_owner(Some(&anna), &owner(same, "anna-1")).ok(),
                Some(()),
                "{same}"
            );
        }
        assert_eq!(
            normalized_base("https://f.se/"),
            normalized_base("https://f.se")
        );
    }

    #[test]
    fn another_patient_or_another_region_is_refused_and_a_new_store_takes_anyone() {
        let anna = owner(BASE, "anna-1");
        for other in [
            owner(BASE, "bertil-1"),
            owner(BASE, "Anna-1"),
            owner("https://fhir.annan-region.se/fhir", "anna-1"),
            owner("https://fhir.region.se/fhir2", "anna-1"),
            owner("https://fhir.region.se/", "anna-1"),
            owner("http://fhir.region.se/fhir", "anna-1"),
            owner("https://fhir.region.se:8443/fhir", "anna-1"),
        ] {
            assert!(
                matches!(
                    check_owner(Some(&anna), &other),
                    Err(SyncError::AnotherPatient)
                ),
                "{other:?}"
            );
        }
        assert!(check_owner(None, &owner(BASE, "bertil-1")).is_ok());
    }

    #[test]
    fn the_refusal_names_no_patient_and_no_region() {
        let text = SyncError::AnotherPatient.to_string();
        assert!(!text.contains("anna") && !text.contains("bertil"), "{text}");
        assert!(
            !text.contains("http") && !text.contains("region.se"),
            "{text}"
        );
        assert!(!format!("{:?}", SyncError::AnotherPatient).contains("anna"));
    }

    #[tokio::test]
    async fn a_second_patient_is_refused_before_anything_is_kept_and_the_first_may_return() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nara = open(&dir);
        // Captured before any login: it becomes the first patient's.
        nara.readings()
            .add(NewReading::manual(
                Measurement::BodyWeight { kg: 70.5 },
                nara.now(),
                jiff::tz::Offset::UTC,
            ))
            .expect("added");
        let patient = nara
            .region()
            .keep_login(login(&nara, BASE, "anna-1", "a1"))
            .await
            .expect("the first login is kept");
        assert_eq!(patient, "anna-1");
        nara.region().drop_access_token().await;

        let refused = nara
            .region()
            .keep_login(login(&nara, BASE, "bertil-1", "b1"))
            .await
            .expect_err("another patient");
        assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");
        // Nothing of bertil's login was kept: not the session, not the refresh token,
        // not the access token; the reading still waits for anna.
        let status = nara.region().status().expect("status");
        assert_eq!(status.patient.as_deref(), Some("anna-1"));
        assert_eq!(status.region.as_deref(), Some(BASE));
        assert_eq!(status.pending, 1);
        assert_eq!(refresh_secret(&nara).as_deref(), Some("refresh-a1"));
        assert_eq!(access_secret(&nara).await, None);

        // Another region, same patient id: refused too.
        let refused = nara
            .region()
            .keep_login(login(
                &nara,
                "https://fhir.annan-region.se/fhir",
                "anna-1",
                "x",
            ))
            .await
            .expect_err("another region");
        assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");

        // The refresh token dies (as after `invalid_grant`): the binding stays.
        nara.store
            .write(|tx, _| outbox::meta_clear(tx, super::super::REFRESH_KEY))
            .expect("cleared");
        let refused = nara
            .region()
            .keep_login(login(&nara, BASE, "bertil-1", "b2"))
            .await
            .expect_err("still another patient");
        assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");
        assert_eq!(refresh_secret(&nara), None);

        // anna logs in again (the base spelled with a final slash): kept.
        let patient = nara
            .region()
            .keep_login(login(&nara, &format!("{BASE}/"), "anna-1", "a2"))
            .await
            .expect("the same patient logs in again");
        assert_eq!(patient, "anna-1");
        assert_eq!(refresh_secret(&nara).as_deref(), Some("refresh-a2"));
        assert_eq!(access_secret(&nara).await.as_deref(), Some("access-a2"));
    }

    #[tokio::test]
    async fn a_store_logged_in_before_the_binding_belongs_to_its_session() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nara = open(&dir);
        // An older version stored the session and no owner.
        let session =
            serde_json::to_vec(&login(&nara, BASE, "anna-1", "a0").session).expect("serialises");
        nara.store
            .write(|tx, k| outbox::meta_put(tx, k, SESSION_KEY, &session))
            .expect("stored");

        let refused = nara
            .region()
            .keep_login(login(&nara, BASE, "bertil-1", "b1"))
            .await
            .expect_err("another patient");
        assert!(matches!(refused, SyncError::AnotherPatient), "{refused:?}");
        let owner = nara
            .store
            .read(|c, k| outbox::meta_get(c, k, OWNER_KEY))
            .expect("reads");
        assert!(owner.is_none(), "a refused login writes nothing");

        nara.region()
            .keep_login(login(&nara, BASE, "anna-1", "a1"))
            .await
            .expect("the session's patient logs in");
        let owner = nara
            .store
            .read(|c, k| outbox::meta_get(c, k, OWNER_KEY))
            .expect("reads")
            .expect("the owner is now stored");
        let owner: StoreOwner = serde_json::from_slice(&owner).expect("an owner");
        assert_eq!(
            owner,
            StoreOwner::of(&login(&nara, BASE, "anna-1", "").session)
        );
    }
}
