//! Appointment notices and forms: the area the shells call (`Nara::notices()`).
//!
//! Opening a notice remembers the time the patient saw and, the first time, queues the
//! opened receipt; answers are checked against the clinic's rules
//! ([`crate::domain::notice::check_answer`]) and queued in the same transaction as
//! they are stored. Forms (health declarations, self-assessments) are rendered by the
//! shells from [`Form`]; drafts are saved sealed and resumed, pre-filled from recent
//! readings; a submission builds the `QuestionnaireResponse` once and queues it, and a
//! scored form also stores its score as a reading.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use crate::Nara;
use crate::ReadingFilter;
use crate::domain::notice::{
    self, Answer, AnswerDelivery, GivenAnswer, Notice, NoticeError, NoticeLocal, NoticeReminder,
    NoticeState,
};
use crate::domain::questionnaire::{
    self, Answers, Form, ItemIssue, QuestionnaireError, ResponseError, ResponseMeta, ResponseStatus,
};
use crate::domain::reading::Reading;
use crate::domain::text::LocalizedText;
use crate::error::NaraError;
use crate::observe::Change;
use crate::store::StoreError;
use crate::store::notices::{self as repo, FormDraft, NoticeUpsert};

/// The placeholder subject of a response stored before upload (a valid FHIR id; the
/// sync engine replaces it with the session's patient).
const SUBJECT_SET_AT_UPLOAD: &str = "set-at-upload";

/// A notice with its state for the patient.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeView {
    /// The notice as the region sent it.
    pub notice: Notice,
    /// The patient's side.
    pub local: NoticeLocal,
    /// Its state now.
    pub state: NoticeState,
    /// Whether a cancel or reschedule is still possible in the app.
    pub can_change: bool,
    /// The health declaration's progress, if the notice has one.
    pub declaration: Option<DeclarationState>,
    /// The preparation text as a sanitised document (the region may write it in the
    /// content Markdown subset, with `nara:content/<id>` links to self-care articles):
    /// render it like an article, so its links open the right article.
    pub preparation: Option<crate::domain::content::Document>,
}

/// Where the health declaration of a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclarationState {
    /// The form has not arrived yet (it comes with the next sync).
    NotDownloaded,
    /// Not started.
    NotStarted,
    /// A draft is saved.
    Draft,
    /// Submitted.
    Submitted,
}

/// A form being filled in: the model to render, the answers so far, what is enabled
/// and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct FormSession {
    /// The form.
    pub form: Form,
    /// The answers so far (pre-filled from recent readings when new).
    pub answers: Answers,
    /// The linkIds to show now.
    pub enabled: Vec<String>,
    /// Problems per item (empty: ready to submit).
    pub issues: Vec<ItemIssue>,
    /// Whether it was already submitted (then read-only).
    pub submitted: bool,
}

/// Why a form could not be loaded, saved or submitted. Never names an answer.
#[derive(Debug, Error)]
pub enum FormError {
    /// No such form on the phone (not downloaded yet).
    #[error("the form is not on this device yet")]
    NotDownloaded,
    /// The region's form cannot be used.
    #[error("the form cannot be used: {0}")]
    Unusable(#[from] QuestionnaireError),
    /// Some answers do not validate: nothing was submitted.
    #[error("{} item(s) need attention", .0.len())]
    Invalid(Vec<ItemIssue>),
    /// Already submitted.
    #[error("already submitted")]
    AlreadySubmitted,
    /// The response could not be built (the form has no canonical url).
    #[error("the response cannot be built: {0}")]
    Response(String),
    /// The store failed (a locked key, a full disk), see [`NaraError`].
    #[error(transparent)]
    Local(#[from] NaraError),
}

impl FormError {
    /// What to tell the patient.
    pub fn message(&self) -> LocalizedText {
        match self {
            FormError::NotDownloaded => LocalizedText::new(
                "Formuläret har inte hämtats än. Det kommer vid nästa synk.",
                "The form has not been downloaded yet. It comes with the next sync.",
            ),
            FormError::Local(_) => LocalizedText::new(
                "Formuläret kunde inte sparas på telefonen. Försök igen.",
                "The form could not be saved on the phone. Try again.",
            ),
            FormError::Unusable(_) | FormError::Response(_) => LocalizedText::new(
                "Formuläret går inte att fylla i i appen. Kontakta mottagningen.",
                "The form cannot be filled in in the app. Contact the clinic.",
            ),
            FormError::Invalid(issues) => LocalizedText::new(
                format!("{} frågor behöver rättas eller besvaras.", issues.len()),
                format!("{} questions need an answer or a correction.", issues.len()),
            ),
            FormError::AlreadySubmitted => {
                LocalizedText::new("Formuläret är redan skickat.", "The form is already sent.")
            }
        }
    }
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The response's client id (its identifier at the region).
    pub response_id: String,
    /// The score reading stored, for a scored form.
    pub score_reading: Option<Reading>,
}

/// Notices and forms.
pub struct Notices<'a> {
    pub(crate) nara: &'a Nara,
}

impl Notices<'_> {
    fn publish(&self) {
        self.nara.observers.publish(Change::NoticesChanged);
    }

    fn view(&self, stored: repo::StoredNotice) -> Result<NoticeView, NaraError> {
        let now = self.nara.now();
        let state = notice::state(&stored.notice, &stored.local, now);
        // Whether a change (cancel, reschedule) would pass the clinic's rules now.
        let can_change = notice::check_answer(
            &stored.notice,
            &NoticeLocal {
                seen: Some((stored.notice.start, stored.notice.end)),
                ..stored.local.clone()
            },
            Answer::Cancel {
                reason: String::new(),
            },
            now,
        )
        .is_ok();
        let declaration = match &stored.notice.questionnaire_id {
            None => None,
            Some(q) => Some(
                match self
                    .nara
                    .store
                    .read(|c, k| repo::form_progress(c, k, q, Some(&stored.notice.id)))?
                {
                    repo::FormProgress::Submitted => DeclarationState::Submitted,
                    repo::FormProgress::Draft => DeclarationState::Draft,
                    repo::FormProgress::NotStarted => DeclarationState::NotStarted,
                    repo::FormProgress::NotDownloaded => DeclarationState::NotDownloaded,
                },
            ),
        };
        let preparation = stored
            .notice
            .preparation
            .as_deref()
            .map(crate::domain::content::render::parse);
        Ok(NoticeView {
            preparation,
            notice: stored.notice,
            local: stored.local,
            state,
            can_change,
            declaration,
        })
    }

    /// Every notice: upcoming ones first (soonest first), then past and cancelled ones
    /// (newest first).
    pub fn list(&self) -> Result<Vec<NoticeView>, NaraError> {
        let stored = self.nara.store.read(repo::notices)?;
        let mut views = stored
            .into_iter()
            .map(|s| self.view(s))
            .collect::<Result<Vec<_>, _>>()?;
        let upcoming = |v: &NoticeView| {
            !matches!(
                v.state,
                NoticeState::Passed | NoticeState::CancelledByClinic
            )
        };
        views.sort_by(|a, b| match (upcoming(a), upcoming(b)) {
            (true, true) => a.notice.start.cmp(&b.notice.start),
            (false, false) => b.notice.start.cmp(&a.notice.start),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
        });
        Ok(views)
    }

    /// One notice, without opening it.
    pub fn get(&self, id: &str) -> Result<Option<NoticeView>, NaraError> {
        match self.nara.store.read(|c, k| repo::notice(c, k, id))? {
            Some(s) => Ok(Some(self.view(s)?)),
            None => Ok(None),
        }
    }

    /// The patient opens the notice: the time shown is remembered as seen, and the
    /// first opening queues the receipt the clinic sees.
    pub fn open(&self, id: &str) -> Result<NoticeView, NaraError> {
        let now = self.nara.now();
        let (stored, _first) = self
            .nara
            .store
            .write(|tx, k| repo::open(tx, k, id, now))?
            .ok_or(NaraError::NotFound)?;
        self.publish();
        self.view(stored)
    }

    /// Answers a notice: confirm, cancel (within the clinic's cut-off) or ask for
    /// another time. Checked against the time the patient last saw; stored and queued
    /// in one transaction.
    ///
    /// Errors: [`NaraError::Notice`] with [`NoticeError`] (too late: call the clinic;
    /// moved: open it again; cancelled by the clinic; passed); never names the text.
    pub fn answer(&self, id: &str, answer: Answer) -> Result<GivenAnswer, NaraError> {
        let now = self.nara.now();
        let random = self.nara.store.random16()?;
        let given = self.nara.store.write(|tx, k| {
            let stored = repo::notice(tx, k, id)?.ok_or(NaraError::NotFound)?;
            let answer = notice::check_answer(&stored.notice, &stored.local, answer, now)?;
            let given = GivenAnswer {
                id: uuid::Builder::from_random_bytes(random)
                    .into_uuid()
                    .to_string(),
                answer,
                at: now,
                for_version: stored.notice.version.clone(),
                for_start: stored.notice.start,
                for_end: stored.notice.end,
                delivery: AnswerDelivery::Queued,
            };
            repo::add_answer(tx, k, stored.seq, &given)?;
            Ok::<_, NaraError>(given)
        })?;
        tracing::info!(answer = given.answer.code(), "notice answered");
        self.publish();
        Ok(given)
    }

    /// The local notifications to schedule now, for every notice, in time order. Times
    /// in the texts are formatted in `tz` (the phone's zone). Call again after a
    /// `NoticesChanged` event and replace what was scheduled, by id.
    pub fn reminders(&self, tz: &TimeZone) -> Result<Vec<NoticeReminder>, NaraError> {
        let now = self.nara.now();
        let fmt = |t: Timestamp| {
            let z = t.to_zoned(tz.clone());
            (
                format!("{} kl. {}", sv_date(&z), z.strftime("%H:%M")),
                z.strftime("%a %-d %b at %H:%M").to_string(),
            )
        };
        let mut out = Vec::new();
        for s in self.nara.store.read(repo::notices)? {
            out.extend(notice::reminders(&s.notice, &s.local, now, &fmt));
        }
        out.sort_by_key(|r| r.at);
        Ok(out)
    }

    /// The notice as an iCalendar file (RFC 5545) for the patient's calendar.
    pub fn calendar(&self, id: &str) -> Result<String, NaraError> {
        let stored = self
            .nara
            .store
            .read(|c, k| repo::notice(c, k, id))?
            .ok_or(NaraError::NotFound)?;
        Ok(notice::to_icalendar(&stored.notice, self.nara.now()))
    }

    /// Stores a notice from the region (sync, tests). If the clinic changed the time
    /// or status, answers still waiting are set aside in the same transaction.
    pub fn store_from_region(&self, notice: &Notice) -> Result<NoticeUpsert, NaraError> {
        let outcomes = self.store_all_from_region(std::slice::from_ref(notice))?;
        Ok(outcomes
            .into_iter()
            .next()
            .unwrap_or(NoticeUpsert::Unchanged))
    }

    /// Stores a page of notices from the region in one transaction (sync); see
    /// [`Notices::store_from_region`]. Returns what happened to each, in order.
    pub fn store_all_from_region(
        &self,
        notices: &[Notice],
    ) -> Result<Vec<NoticeUpsert>, NaraError> {
        let outcomes = self.nara.store.write(|tx, k| {
            notices
                .iter()
                .map(|n| repo::upsert_notice(tx, k, n))
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        let overtaken: u64 = outcomes
            .iter()
            .map(|o| match *o {
                NoticeUpsert::Changed { overtaken } => overtaken as u64,
                _ => 0,
            })
            .sum();
        if overtaken > 0 {
            tracing::info!(answers = overtaken, "answers overtaken by a clinic change");
        }
        if outcomes.iter().any(|o| *o != NoticeUpsert::Unchanged) {
            self.publish();
        }
        Ok(outcomes)
    }

    /// The ids of the forms stored notices refer to that have not arrived yet (what
    /// the next sync fetches).
    pub fn missing_forms(&self) -> Result<Vec<String>, NaraError> {
        Ok(self.nara.store.read(|c, k| {
            let mut missing: Vec<String> = Vec::new();
            for q in repo::notices(c, k)?
                .into_iter()
                .filter_map(|s| s.notice.questionnaire_id)
            {
                if !missing.contains(&q) && !repo::questionnaire_exists(c, &q)? {
                    missing.push(q);
                }
            }
            Ok::<_, StoreError>(missing)
        })?)
    }

    /// Stores a form (`Questionnaire` JSON) from the region, after checking that it can
    /// be used.
    pub fn store_form(&self, id: &str, json: &Value) -> Result<Form, FormError> {
        let form = questionnaire::parse(json)?;
        self.nara
            .store
            .write(|tx, k| repo::put_questionnaire(tx, k, id, json))?;
        self.publish();
        Ok(form)
    }

    /// Whether form `id` is on the phone.
    pub fn has_form(&self, id: &str) -> Result<bool, NaraError> {
        Ok(self
            .nara
            .store
            .read(|c, k| repo::questionnaire(c, k, id))?
            .is_some())
    }

    fn load_form(&self, id: &str) -> Result<Form, FormError> {
        let json = self
            .nara
            .store
            .read(|c, k| repo::questionnaire(c, k, id))?
            .ok_or(FormError::NotDownloaded)?;
        Ok(questionnaire::parse(&json)?)
    }

    fn recent_readings(&self) -> Result<Vec<Reading>, NaraError> {
        let since = self
            .nara
            .now()
            .checked_sub(questionnaire::PREFILL_WINDOW)
            .unwrap_or(Timestamp::MIN);
        self.nara.readings().list(&ReadingFilter {
            since: Some(since),
            ..ReadingFilter::default()
        })
    }

    /// Opens form `questionnaire_id` for `notice_id` (or on its own): the saved draft,
    /// or a new one pre-filled from the patient's recent readings; or the submitted
    /// answers, read-only.
    pub fn form(
        &self,
        questionnaire_id: &str,
        notice_id: Option<&str>,
    ) -> Result<FormSession, FormError> {
        let form = self.load_form(questionnaire_id)?;
        let stored = self.nara.store.read(|c, k| {
            Ok((
                repo::draft(c, k, questionnaire_id, notice_id)?,
                repo::submitted(c, k, questionnaire_id, notice_id)?,
            ))
        })?;
        let (answers, submitted) = match stored {
            (_, Some(done)) => (done.answers, true),
            (Some((_, draft)), None) => (draft.answers, false),
            (None, None) => {
                let recent = self.recent_readings()?;
                (
                    questionnaire::prefill(&form, &recent, self.nara.now()),
                    false,
                )
            }
        };
        Ok(session(form, answers, submitted))
    }

    /// What is enabled and what is wrong with `answers`, without saving them: for a
    /// screen that updates as the patient types. Save with [`Notices::save_draft`].
    pub fn check(
        &self,
        questionnaire_id: &str,
        answers: Answers,
    ) -> Result<FormSession, FormError> {
        Ok(session(self.load_form(questionnaire_id)?, answers, false))
    }

    /// Saves the answers as the draft (sealed, survives a restart); returns the
    /// session with what is enabled and what is wrong now.
    pub fn save_draft(
        &self,
        questionnaire_id: &str,
        notice_id: Option<&str>,
        answers: Answers,
    ) -> Result<FormSession, FormError> {
        let form = self.load_form(questionnaire_id)?;
        let now = self.nara.now();
        let random = self.nara.store.random16()?;
        self.nara.store.write(|tx, k| {
            if repo::submitted(tx, k, questionnaire_id, notice_id)?.is_some() {
                return Err(FormError::AlreadySubmitted);
            }
            let draft = match repo::draft(tx, k, questionnaire_id, notice_id)? {
                Some((_, d)) => FormDraft {
                    answers: answers.clone(),
                    updated_at: now,
                    ..d
                },
                None => FormDraft {
                    id: uuid::Builder::from_random_bytes(random)
                        .into_uuid()
                        .to_string(),
                    questionnaire_id: questionnaire_id.to_owned(),
                    notice_id: notice_id.map(str::to_owned),
                    answers: answers.clone(),
                    started_at: now,
                    updated_at: now,
                    submitted_at: None,
                    response: None,
                },
            };
            repo::save_draft(tx, k, &draft)?;
            Ok(())
        })?;
        self.publish();
        Ok(session(form, answers, false))
    }

    /// Submits the saved draft: validates it, builds the `QuestionnaireResponse`
    /// once, queues it, and for a scored form stores the score as a reading (so triage
    /// and trends apply). Nothing is submitted if any item has a problem.
    pub fn submit(
        &self,
        questionnaire_id: &str,
        notice_id: Option<&str>,
    ) -> Result<Submitted, FormError> {
        let form = self.load_form(questionnaire_id)?;
        let now = self.nara.now();
        let (draft, submitted) = self.nara.store.read(|c, k| {
            Ok((
                repo::draft(c, k, questionnaire_id, notice_id)?,
                repo::submitted(c, k, questionnaire_id, notice_id)?,
            ))
        })?;
        let (seq, mut draft) = match (draft, submitted) {
            (_, Some(_)) => return Err(FormError::AlreadySubmitted),
            (Some(d), None) => d,
            (None, None) => {
                return Err(FormError::Invalid(questionnaire::validate(
                    &form,
                    &Answers::default(),
                )));
            }
        };
        let issues = questionnaire::validate(&form, &draft.answers);
        if !issues.is_empty() {
            return Err(FormError::Invalid(issues));
        }
        let client_id =
            Uuid::parse_str(&draft.id).map_err(|e| FormError::Response(e.to_string()))?;
        let response = questionnaire::response(
            &form,
            &draft.answers,
            &ResponseMeta {
                // The sync engine sets subject and author to the session's patient at
                // upload; the stored response names nobody until then.
                patient_id: SUBJECT_SET_AT_UPLOAD,
                client_id,
                authored: now,
                status: ResponseStatus::Completed,
                appointment_id: notice_id,
                care_plan_id: None,
            },
        )
        .map_err(|e| match e {
            ResponseError::Invalid(issues) => FormError::Invalid(issues),
            other => FormError::Response(other.to_string()),
        })?;
        draft.submitted_at = Some(now);
        draft.response = Some(response);
        // A complete score becomes a reading, stored in the submission's transaction:
        // the form and its score reach the store (and the outbox) together or not at all.
        let score = questionnaire::score(&form, &draft.answers).filter(|s| s.complete);
        let score_reading = match score {
            Some(s) => {
                let offset = TimeZone::system().to_offset(now);
                let new = questionnaire::score_reading(&s, now, offset)
                    .map_err(|e| FormError::Response(e.to_string()))?;
                Some(self.nara.readings().prepared(new)?)
            }
            None => None,
        };
        self.nara.store.write(|tx, k| {
            repo::submit(tx, k, seq, &draft)?;
            if let Some(reading) = &score_reading {
                crate::store::readings::insert(tx, k, reading)?;
            }
            Ok::<_, FormError>(())
        })?;
        if let Some(reading) = &score_reading {
            self.nara.readings().announce(reading);
        }
        tracing::info!(scored = score_reading.is_some(), "form submitted");
        self.publish();
        Ok(Submitted {
            response_id: draft.id,
            score_reading,
        })
    }
}

impl From<crate::store::StoreError> for FormError {
    fn from(e: crate::store::StoreError) -> Self {
        FormError::Local(NaraError::Store(e))
    }
}

fn session(form: Form, answers: Answers, submitted: bool) -> FormSession {
    let enabled = questionnaire::enabled(&form, &answers)
        .into_iter()
        .collect();
    let issues = questionnaire::validate(&form, &answers);
    FormSession {
        form,
        answers,
        enabled,
        issues,
        submitted,
    }
}

/// "tis 10 dec" in Swedish.
fn sv_date(z: &jiff::Zoned) -> String {
    const DAYS: [&str; 7] = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"];
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec",
    ];
    let day = DAYS[z.weekday().to_monday_zero_offset() as usize];
    let month = MONTHS[(z.month() - 1) as usize];
    format!("{day} {} {month}", z.day())
}

impl From<NoticeError> for NaraError {
    fn from(e: NoticeError) -> Self {
        NaraError::Notice(e)
    }
}
