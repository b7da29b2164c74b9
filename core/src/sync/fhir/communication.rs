//! Chat with the care unit as FHIR R4: threads, messages, photos and read receipts.
//!
//! The wire format is ADR 0009 (`docs/adr/0009-chat-fhir-mapping.md`):
//! - a **thread** is a `CommunicationRequest` the region writes (the unit's open
//!   conversation with the patient): `status` active/on-hold = open, completed/revoked =
//!   closed (`statusReason` says why, `occurrencePeriod.end` when); the unit is
//!   `requester.display`, the topic `reasonCode[0].text`, the reply time and the
//!   112/1177 notice are Nära extensions with the standard `translation` extension for
//!   English;
//! - a **message** is a `Communication` (category `message`) `basedOn` its thread. The
//!   patient's carry `urn:ietf:rfc:3986|urn:uuid:<client id>` as identifier and are
//!   conditional creates, so a repeated upload creates nothing twice. The region's system
//!   sets `received` when the unit's system has it (delivered);
//! - a **photo** is a `Binary` (`securityContext` = the patient) written by `PUT
//!   Binary/<photo id>` (update-as-create: `Binary` has no identifier to make a
//!   conditional create on), referenced from the message's `payload.contentAttachment`
//!   (`url` = `Binary/<id>`, SHA-256 in a Nära extension: R4's `Attachment.hash` is
//!   SHA-1);
//! - a **read receipt** is a small `Communication` (category `read-receipt`,
//!   `inResponseTo` the message read, `sent` = when it was read), with a deterministic
//!   identifier per message, so each message is marked read at most once and a repeated
//!   receipt is recognised.
//!
//! Pure functions only, as in the rest of [`crate::sync::fhir`]. Message text and photo
//! bytes are patient data: no error here contains them.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::chat::{Author, DeliveryState, Message, Photo, Thread, ThreadClosed};
use crate::domain::text::LocalizedText;
use crate::sync::fhir::bundle::{BundleEntry, BundleRequest, EntryResource, Method};
use crate::sync::fhir::json::{Doc, join};
use crate::sync::fhir::types::{CodeableConcept, Coding, Identifier, Reference, instant};
use crate::sync::fhir::{
    DownloadError, FhirError, PatientId, Problem, URI_IDENTIFIER_SYSTEM, is_fhir_id,
};

/// Nära's code system for `Communication.category` and `CommunicationRequest.category`.
pub const CATEGORY_SYSTEM: &str = "https://nara.se/fhir/CodeSystem/communication-category";
/// Category of a chat message.
pub const CATEGORY_MESSAGE: &str = "message";
/// Category of a read receipt.
pub const CATEGORY_READ_RECEIPT: &str = "read-receipt";
/// Category of a thread (`CommunicationRequest`).
pub const CATEGORY_CONVERSATION: &str = "conversation";
/// Identifier system of read receipts; the value names the message read
/// (`Communication/<server id>` or `urn:uuid:<client id>`).
pub const RECEIPT_IDENTIFIER_SYSTEM: &str = "https://nara.se/fhir/read-receipt";
/// Extension (valueString, English in `_valueString`) on a thread: the unit's reply time.
pub const EXT_EXPECTED_REPLY: &str = "https://nara.se/fhir/StructureDefinition/expected-reply";
/// Extension (valueString, English in `_valueString`) on a thread: "not for
/// emergencies, call 112 / 1177".
pub const EXT_EMERGENCY_NOTICE: &str = "https://nara.se/fhir/StructureDefinition/emergency-notice";
/// Extension (valueBase64Binary) on an `Attachment`: the SHA-256 of the data.
pub const EXT_ATTACHMENT_SHA256: &str =
    "https://nara.se/fhir/StructureDefinition/attachment-sha256";
/// HL7's translation extension (`lang`, `content`).
pub const EXT_TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";

/// The thread a written resource belongs to: its `CommunicationRequest` id and the
/// unit's name (for `recipient.display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRef {
    /// The `CommunicationRequest` id.
    pub id: String,
    /// The care unit's name.
    pub unit_name: Option<String>,
}

impl ThreadRef {
    /// The reference to `thread`.
    pub fn of(thread: &Thread) -> Self {
        ThreadRef {
            id: thread.id.clone(),
            unit_name: Some(thread.unit_name.clone()),
        }
    }

    /// `CommunicationRequest/<id>`.
    pub fn reference(&self) -> String {
        format!("CommunicationRequest/{}", self.id)
    }
}

/// One `Communication.payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Payload {
    /// `contentString`: the message text.
    #[serde(rename = "contentString")]
    String(String),
    /// `contentAttachment`: a photo.
    #[serde(rename = "contentAttachment")]
    Attachment(Attachment),
}

/// An extension with `valueBase64Binary` (the SHA-256 of an attachment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Base64Extension {
    /// The extension's URL.
    pub url: String,
    /// The value, base64.
    pub value_base64_binary: String,
}

/// A FHIR `Attachment` pointing at a `Binary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The SHA-256 of the bytes ([`EXT_ATTACHMENT_SHA256`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Base64Extension>,
    /// `image/jpeg`, `image/png` or `image/heic`.
    pub content_type: String,
    /// `Binary/<photo id>`.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
}

/// A FHIR R4 `Communication` as Nära writes it: a patient's message or read receipt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType", rename_all = "camelCase")]
pub struct Communication {
    /// The client identifier (messages) or the receipt identifier.
    pub identifier: Vec<Identifier>,
    /// The thread: `CommunicationRequest/<id>`.
    pub based_on: Vec<Reference>,
    /// The message answered (a message) or read (a receipt).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_response_to: Vec<Reference>,
    /// Always `completed`: the patient has sent it.
    pub status: String,
    /// `message` or `read-receipt`.
    pub category: Vec<CodeableConcept>,
    /// `Patient/<id>`.
    pub subject: Reference,
    /// When the patient sent it (compose time) or read the message.
    pub sent: String,
    /// The care unit, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipient: Vec<Reference>,
    /// `Patient/<id>`.
    pub sender: Reference,
    /// Text and photos (none for a receipt).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payload: Vec<Payload>,
}

/// A FHIR R4 `Binary` holding one photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "resourceType", rename_all = "camelCase")]
pub struct Binary {
    /// The photo's id (client-chosen, so the upload is an idempotent `PUT`).
    pub id: String,
    /// The image type.
    pub content_type: String,
    /// `Patient/<id>`: who may see it.
    pub security_context: Reference,
    /// The bytes, base64.
    pub data: String,
}

/// The client identifier of a patient's message: `urn:ietf:rfc:3986` |
/// `urn:uuid:<id>`.
pub fn message_identifier(id: &str) -> Identifier {
    Identifier {
        system: URI_IDENTIFIER_SYSTEM.to_owned(),
        value: format!("urn:uuid:{id}"),
    }
}

fn category(code: &str) -> CodeableConcept {
    CodeableConcept::one(Coding::new(CATEGORY_SYSTEM, code))
}

fn unit_recipient(thread: &ThreadRef) -> Vec<Reference> {
    thread
        .unit_name
        .iter()
        .map(|name| Reference {
            display: Some(name.clone()),
            ..Reference::default()
        })
        .collect()
}

fn check_thread(thread: &ThreadRef) -> Result<(), FhirError> {
    if is_fhir_id(&thread.id) {
        Ok(())
    } else {
        Err(FhirError::InvalidResourceId)
    }
}

/// The `Attachment` of `photo`: `Binary/<id>`, type, size and the SHA-256 (from the
/// photo's hex digest) in [`EXT_ATTACHMENT_SHA256`].
pub fn photo_attachment(photo: &Photo) -> Result<Attachment, FhirError> {
    if !is_fhir_id(&photo.id) {
        return Err(FhirError::InvalidResourceId);
    }
    let extension = if photo.sha256.is_empty() {
        Vec::new()
    } else {
        let digest = hex_decode(&photo.sha256).ok_or(FhirError::Serialize)?;
        vec![Base64Extension {
            url: EXT_ATTACHMENT_SHA256.to_owned(),
            value_base64_binary: base64_encode(&digest),
        }]
    };
    Ok(Attachment {
        extension,
        content_type: photo.content_type.clone(),
        url: format!("Binary/{}", photo.id),
        size: photo.size,
    })
}

/// The `Communication` for the patient's `message` in `thread`.
///
/// `message.id` is the client id; `message.in_reply_to`, if set, is the region's id of
/// the unit message answered. Photos must be uploaded as [`binary`] before or in the
/// same transaction.
pub fn communication(
    message: &Message,
    patient: &PatientId,
    thread: &ThreadRef,
) -> Result<Communication, FhirError> {
    check_thread(thread)?;
    if message.id.is_empty() {
        return Err(FhirError::MissingIdentifier);
    }
    let in_response_to = match &message.in_reply_to {
        None => Vec::new(),
        Some(id) if is_fhir_id(id) => vec![Reference::literal(format!("Communication/{id}"))],
        Some(_) => return Err(FhirError::InvalidResourceId),
    };
    let mut payload = Vec::with_capacity(1 + message.photos.len());
    if !message.text.is_empty() {
        payload.push(Payload::String(message.text.clone()));
    }
    for photo in &message.photos {
        payload.push(Payload::Attachment(photo_attachment(photo)?));
    }
    let me = Reference::literal(patient.reference());
    Ok(Communication {
        identifier: vec![message_identifier(&message.id)],
        based_on: vec![Reference::literal(thread.reference())],
        in_response_to,
        status: "completed".to_owned(),
        category: vec![category(CATEGORY_MESSAGE)],
        subject: me.clone(),
        sent: instant(message.written_at)?,
        recipient: unit_recipient(thread),
        sender: me,
        payload,
    })
}

/// The `Binary` of one photo: `photo_id` (a valid FHIR id, e.g. the photo's UUID),
/// its type and bytes, readable in the patient's compartment (`securityContext`).
pub fn binary(
    photo_id: &str,
    content_type: &str,
    bytes: &[u8],
    patient: &PatientId,
) -> Result<Binary, FhirError> {
    if !is_fhir_id(photo_id) {
        return Err(FhirError::InvalidResourceId);
    }
    Ok(Binary {
        id: photo_id.to_owned(),
        content_type: content_type.to_owned(),
        security_context: Reference::literal(patient.reference()),
        data: base64_encode(bytes),
    })
}

/// The identifier value of a receipt for the unit's message with region id
/// `message_server_id`.
fn receipt_key(message_server_id: &str) -> String {
    format!("Communication/{message_server_id}")
}

/// The patient's read receipt for the unit's message `message_server_id` (the region's
/// `Communication` id), read at `read_at`.
pub fn receipt(
    message_server_id: &str,
    thread: &ThreadRef,
    read_at: Timestamp,
    patient: &PatientId,
) -> Result<Communication, FhirError> {
    check_thread(thread)?;
    if !is_fhir_id(message_server_id) {
        return Err(FhirError::InvalidResourceId);
    }
    let me = Reference::literal(patient.reference());
    Ok(Communication {
        identifier: vec![Identifier {
            system: RECEIPT_IDENTIFIER_SYSTEM.to_owned(),
            value: receipt_key(message_server_id),
        }],
        based_on: vec![Reference::literal(thread.reference())],
        in_response_to: vec![Reference::literal(receipt_key(message_server_id))],
        status: "completed".to_owned(),
        category: vec![category(CATEGORY_READ_RECEIPT)],
        subject: me.clone(),
        sent: instant(read_at)?,
        recipient: unit_recipient(thread),
        sender: me,
        payload: Vec::new(),
    })
}

fn conditional_create(
    full_url: String,
    identifier: &Identifier,
    resource: &Communication,
) -> Result<BundleEntry, FhirError> {
    let json = serde_json::to_value(resource).map_err(|_| FhirError::Serialize)?;
    Ok(BundleEntry {
        full_url: Some(full_url),
        resource: EntryResource::Json(json),
        request: BundleRequest {
            method: Method::Post,
            url: "Communication".to_owned(),
            if_none_exist: Some(format!(
                "identifier={}|{}",
                identifier.system, identifier.value
            )),
        },
    })
}

/// The conditional create of the patient's `message` (`POST Communication`,
/// `ifNoneExist: identifier=urn:ietf:rfc:3986|urn:uuid:<id>`).
pub fn message_entry(
    message: &Message,
    patient: &PatientId,
    thread: &ThreadRef,
) -> Result<BundleEntry, FhirError> {
    let c = communication(message, patient, thread)?;
    let id = c.identifier[0].clone();
    conditional_create(id.value.clone(), &id, &c)
}

/// The upload of one photo: `PUT Binary/<photo id>` (update-as-create; the same bytes
/// again give the same content). Send it before, or in the same transaction as, the
/// message that references it.
pub fn binary_entry(
    photo_id: &str,
    content_type: &str,
    bytes: &[u8],
    patient: &PatientId,
) -> Result<BundleEntry, FhirError> {
    let b = binary(photo_id, content_type, bytes, patient)?;
    let json = serde_json::to_value(&b).map_err(|_| FhirError::Serialize)?;
    Ok(BundleEntry {
        full_url: None,
        request: BundleRequest {
            method: Method::Put,
            url: format!("Binary/{photo_id}"),
            if_none_exist: None,
        },
        resource: EntryResource::Json(json),
    })
}

/// The conditional create of the patient's read receipt for the unit's message
/// `message_server_id`. Its identifier is derived from the message, so a receipt sent
/// twice (or from two devices) is stored once.
pub fn receipt_entry(
    message_server_id: &str,
    thread: &ThreadRef,
    read_at: Timestamp,
    patient: &PatientId,
) -> Result<BundleEntry, FhirError> {
    let c = receipt(message_server_id, thread, read_at, patient)?;
    let id = c.identifier[0].clone();
    let name = format!("{}|{}", id.system, id.value);
    let full_url = format!(
        "urn:uuid:{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
    );
    conditional_create(full_url, &id, &c)
}

// ------------------------------------------------------------------ download

/// A photo of a downloaded message: the `Binary` to fetch lazily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoRef {
    /// The photo's id (the `Binary` id).
    pub photo_id: String,
    /// `Binary/<id>`, relative to the FHIR base.
    pub url: String,
}

/// A downloaded message: the unit's, or the region's copy of one of the patient's.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    /// The region's `Communication` id.
    pub server_id: String,
    /// The message. For the patient's own, `id` is the client id and `delivery` is
    /// [`delivery_state`] of the server's copy; for the unit's, `id` is `server_id`.
    pub message: Message,
    /// When the unit's system received it (`received`), if it has.
    pub received_at: Option<Timestamp>,
    /// The photos to fetch.
    pub photos: Vec<PhotoRef>,
}

/// A downloaded read receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The message read: the client id of a patient's message (the unit read it), or
    /// the region id of a unit message (the patient read it, on some device).
    pub message_id: String,
    /// Who read it.
    pub by: Author,
    /// When.
    pub read_at: Timestamp,
    /// The thread, if the receipt names it.
    pub thread_id: Option<String>,
}

impl Receipt {
    /// The state a patient's message reaches through this receipt.
    pub fn delivery(&self) -> Option<DeliveryState> {
        (self.by == Author::CareUnit).then_some(DeliveryState::Read)
    }
}

/// A downloaded `Communication`: a message or a read receipt.
#[derive(Debug, Clone, PartialEq)]
pub enum Downloaded {
    /// A message.
    Message(IncomingMessage),
    /// A read receipt.
    Receipt(Receipt),
}

/// True if `v` is a read receipt (category `read-receipt`).
pub fn is_receipt(v: &Value) -> bool {
    has_category(v, CATEGORY_READ_RECEIPT)
}

fn has_category(v: &Value, code: &str) -> bool {
    v.get("category")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("coding").and_then(Value::as_array))
        .flatten()
        .any(|c| {
            c.get("system").and_then(Value::as_str) == Some(CATEGORY_SYSTEM)
                && c.get("code").and_then(Value::as_str) == Some(code)
        })
}

/// Reads a downloaded `Communication` as a message or a receipt.
pub fn communication_from_fhir(
    v: &Value,
    patient: &PatientId,
) -> Result<Downloaded, DownloadError> {
    if is_receipt(v) {
        receipt_from_fhir(v, patient).map(Downloaded::Receipt)
    } else {
        message_from_fhir(v, patient).map(Downloaded::Message)
    }
}

/// The state of the patient's message from the server's copy: `received` set →
/// delivered; otherwise sent (the server has it). Read comes from receipts.
pub fn delivery_state(v: &Value) -> DeliveryState {
    match v.get("received") {
        Some(Value::String(s)) if !s.is_empty() => DeliveryState::Delivered,
        _ => DeliveryState::Sent,
    }
}

/// The id in a literal reference `Type/<id>` (or a full URL ending in it; a version
/// suffix is dropped), if it is of `resource_type` and a valid id.
fn literal_id<'a>(reference: &'a str, resource_type: &str) -> Option<&'a str> {
    let r = match reference.find("/_history/") {
        Some(i) => &reference[..i],
        None => reference,
    };
    let (ty, id) = r.rsplit_once('/')?;
    let ty = ty.rsplit('/').next()?;
    (ty == resource_type && is_fhir_id(id)).then_some(id)
}

fn is_patient(reference: Option<&str>, patient: &PatientId) -> bool {
    reference.and_then(|r| literal_id(r, "Patient")) == Some(patient.as_str())
}

fn check_subject(doc: &Doc, v: &Value, patient: &PatientId) -> Result<(), DownloadError> {
    let subject = doc.req(v, "subject", "")?;
    let r = doc.str(subject, "reference", "subject")?;
    if is_patient(Some(r), patient) {
        Ok(())
    } else {
        Err(doc.err("subject.reference", Problem::Invalid))
    }
}

fn timestamp(doc: &Doc, s: &str, field: &str) -> Result<Timestamp, DownloadError> {
    s.parse::<Timestamp>()
        .map_err(|_| doc.err(field, Problem::Invalid))
}

fn check_status(doc: &Doc, v: &Value) -> Result<(), DownloadError> {
    match doc.str(v, "status", "")? {
        "completed" | "in-progress" => Ok(()),
        "preparation" | "not-done" | "on-hold" | "stopped" | "entered-in-error" | "unknown" => {
            Err(doc.err("status", Problem::Unsupported))
        }
        _ => Err(doc.err("status", Problem::UnknownCode)),
    }
}

/// The author of a downloaded Communication: the patient if `sender` is the patient,
/// the unit otherwise (another patient is refused).
fn author(doc: &Doc, v: &Value, patient: &PatientId) -> Result<Author, DownloadError> {
    let Some(sender) = v.get("sender") else {
        return Ok(Author::CareUnit);
    };
    let r = doc.opt_str(sender, "reference", "sender")?;
    if is_patient(r, patient) {
        Ok(Author::Patient)
    } else if r.and_then(|r| literal_id(r, "Patient")).is_some() {
        Err(doc.err("sender.reference", Problem::Invalid))
    } else {
        Ok(Author::CareUnit)
    }
}

/// The client id in an `urn:ietf:rfc:3986` identifier `urn:uuid:<id>`.
fn client_id(doc: &Doc, v: &Value, path: &str) -> Result<Option<String>, DownloadError> {
    for (i, ident) in doc.array(v, "identifier", path)?.iter().enumerate() {
        let p = format!("{}[{i}]", join(path, "identifier"));
        if doc.opt_str(ident, "system", &p)? != Some(URI_IDENTIFIER_SYSTEM) {
            continue;
        }
        let value = doc.str(ident, "value", &p)?;
        let id = value
            .strip_prefix("urn:uuid:")
            .and_then(|u| Uuid::parse_str(u).ok())
            .ok_or_else(|| doc.err(join(&p, "value"), Problem::Invalid))?;
        return Ok(Some(id.to_string()));
    }
    Ok(None)
}

/// The thread id from `basedOn` (`CommunicationRequest/<id>`).
fn thread_id(doc: &Doc, v: &Value) -> Result<Option<String>, DownloadError> {
    for (i, b) in doc.array(v, "basedOn", "")?.iter().enumerate() {
        let p = format!("basedOn[{i}]");
        if let Some(r) = doc.opt_str(b, "reference", &p)? {
            if let Some(id) = literal_id(r, "CommunicationRequest") {
                return Ok(Some(id.to_owned()));
            }
        }
    }
    Ok(None)
}

/// The message a reference points at: a client id (identifier `urn:uuid:`) or a
/// region id (`Communication/<id>`).
fn message_ref(doc: &Doc, r: &Value, path: &str) -> Result<String, DownloadError> {
    if let Some(ident) = r.get("identifier") {
        let ip = join(path, "identifier");
        if doc.opt_str(ident, "system", &ip)? == Some(URI_IDENTIFIER_SYSTEM) {
            let value = doc.str(ident, "value", &ip)?;
            return value
                .strip_prefix("urn:uuid:")
                .and_then(|u| Uuid::parse_str(u).ok())
                .map(|u| u.to_string())
                .ok_or_else(|| doc.err(join(&ip, "value"), Problem::Invalid));
        }
    }
    let reference = doc.str(r, "reference", path)?;
    literal_id(reference, "Communication")
        .map(str::to_owned)
        .ok_or_else(|| doc.err(join(path, "reference"), Problem::Invalid))
}

fn attachment(doc: &Doc, a: &Value, path: &str) -> Result<(Photo, PhotoRef), DownloadError> {
    let url = doc.str(a, "url", path)?;
    let id = literal_id(url, "Binary")
        .ok_or_else(|| doc.err(join(path, "url"), Problem::Unsupported))?;
    let content_type = doc.str(a, "contentType", path)?;
    let size = match a.get("size") {
        None | Some(Value::Null) => 0,
        Some(s) => s
            .as_u64()
            .ok_or_else(|| doc.err(join(path, "size"), Problem::Invalid))?,
    };
    let sha256 = match doc.extension(a, EXT_ATTACHMENT_SHA256, path)? {
        None => String::new(),
        Some((p, e)) => {
            let b64 = doc.str(e, "valueBase64Binary", &p)?;
            base64_decode(b64)
                .filter(|d| d.len() == 32)
                .map(|d| hex_encode(&d))
                .ok_or_else(|| doc.err(join(&p, "valueBase64Binary"), Problem::Invalid))?
        }
    };
    Ok((
        Photo {
            id: id.to_owned(),
            content_type: content_type.to_owned(),
            size,
            sha256,
            local: false,
        },
        PhotoRef {
            photo_id: id.to_owned(),
            url: format!("Binary/{id}"),
        },
    ))
}

/// Reads a downloaded message `Communication` about `patient`: the unit's messages, and
/// the region's copy of the patient's own (to learn sent/delivered, or to show messages
/// written on another device).
pub fn message_from_fhir(v: &Value, patient: &PatientId) -> Result<IncomingMessage, DownloadError> {
    let doc = Doc::open(v, "Communication")?;
    if doc.id == "?" {
        return Err(doc.err("id", Problem::Missing));
    }
    if is_receipt(v) {
        return Err(doc.err("category", Problem::UnknownCode));
    }
    check_status(&doc, v)?;
    check_subject(&doc, v, patient)?;
    let author = author(&doc, v, patient)?;
    let thread = thread_id(&doc, v)?.ok_or_else(|| doc.err("basedOn", Problem::Missing))?;
    let id = match author {
        Author::Patient => {
            client_id(&doc, v, "")?.ok_or_else(|| doc.err("identifier", Problem::Missing))?
        }
        Author::CareUnit => doc.id.clone(),
    };
    let written_at = timestamp(&doc, doc.str(v, "sent", "")?, "sent")?;
    let received_at = doc
        .opt_str(v, "received", "")?
        .map(|s| timestamp(&doc, s, "received"))
        .transpose()?;
    let mut texts = Vec::new();
    let mut photos = Vec::new();
    let mut refs = Vec::new();
    for (i, p) in doc.array(v, "payload", "")?.iter().enumerate() {
        let path = format!("payload[{i}]");
        if let Some(s) = doc.opt_str(p, "contentString", &path)? {
            texts.push(s.trim());
        } else if let Some(a) = p.get("contentAttachment") {
            let (photo, r) = attachment(&doc, a, &join(&path, "contentAttachment"))?;
            photos.push(photo);
            refs.push(r);
        } else {
            return Err(doc.err(path, Problem::Unsupported));
        }
    }
    let text = texts
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let in_reply_to = match doc.array(v, "inResponseTo", "")?.first() {
        None => None,
        Some(r) => Some(message_ref(&doc, r, "inResponseTo[0]")?),
    };
    let delivery = (author == Author::Patient).then(|| delivery_state(v));
    Ok(IncomingMessage {
        server_id: doc.id.clone(),
        message: Message {
            id,
            thread_id: thread,
            author,
            text,
            photos,
            written_at,
            delivery,
            read_at: None,
            in_reply_to,
        },
        received_at,
        photos: refs,
    })
}

/// Reads a downloaded read receipt about `patient`: the unit's on the patient's
/// messages (→ [`DeliveryState::Read`]), or the patient's own from another device.
pub fn receipt_from_fhir(v: &Value, patient: &PatientId) -> Result<Receipt, DownloadError> {
    let doc = Doc::open(v, "Communication")?;
    if !is_receipt(v) {
        return Err(doc.err("category", Problem::Missing));
    }
    check_status(&doc, v)?;
    check_subject(&doc, v, patient)?;
    let by = author(&doc, v, patient)?;
    let read = doc
        .array(v, "inResponseTo", "")?
        .first()
        .ok_or_else(|| doc.err("inResponseTo", Problem::Missing))?;
    let message_id = message_ref(&doc, read, "inResponseTo[0]")?;
    let read_at = timestamp(&doc, doc.str(v, "sent", "")?, "sent")?;
    Ok(Receipt {
        message_id,
        by,
        read_at,
        thread_id: thread_id(&doc, v)?,
    })
}

/// A string element with its English translation (the `translation` extension on
/// `_<key>`); without one, the text is used for both languages.
fn localized(
    doc: &Doc,
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Option<LocalizedText>, DownloadError> {
    let Some(sv) = doc.opt_str(v, key, path)? else {
        return Ok(None);
    };
    let mut en = sv.to_owned();
    let underscored = format!("_{key}");
    if let Some(el) = v.get(&underscored) {
        let ep = join(path, &underscored);
        for (p, t) in doc.extensions(el, EXT_TRANSLATION, &ep)? {
            let lang = doc
                .extension(t, "lang", &p)?
                .map(|(lp, l)| doc.str(l, "valueCode", &lp))
                .transpose()?;
            if lang.is_some_and(|l| l == "en" || l.starts_with("en-")) {
                let (cp, c) = doc.extension(t, "content", &p)?.ok_or_else(|| {
                    doc.err(format!("{p}.extension[url=content]"), Problem::Missing)
                })?;
                doc.str(c, "valueString", &cp)?.clone_into(&mut en);
            }
        }
    }
    Ok(Some(LocalizedText::new(sv, en)))
}

fn localized_extension(
    doc: &Doc,
    v: &Value,
    url: &str,
) -> Result<Option<LocalizedText>, DownloadError> {
    match doc.extension(v, url, "")? {
        None => Ok(None),
        Some((p, e)) => localized(doc, e, "valueString", &p)?
            .map(Some)
            .ok_or_else(|| doc.err(join(&p, "valueString"), Problem::Missing)),
    }
}

/// Reads a thread (`CommunicationRequest`) about `patient`.
pub fn thread_from_fhir(v: &Value, patient: &PatientId) -> Result<Thread, DownloadError> {
    let doc = Doc::open(v, "CommunicationRequest")?;
    if doc.id == "?" {
        return Err(doc.err("id", Problem::Missing));
    }
    check_subject(&doc, v, patient)?;
    let closed = match doc.str(v, "status", "")? {
        "active" | "on-hold" => false,
        "completed" | "revoked" => true,
        "draft" | "entered-in-error" | "unknown" => {
            return Err(doc.err("status", Problem::Unsupported));
        }
        _ => return Err(doc.err("status", Problem::UnknownCode)),
    };
    let updated_at = {
        let meta = doc.req(v, "meta", "")?;
        timestamp(
            &doc,
            doc.str(meta, "lastUpdated", "meta")?,
            "meta.lastUpdated",
        )?
    };
    let requester = doc.req(v, "requester", "")?;
    let unit_name = doc.str(requester, "display", "requester")?.to_owned();
    let title = match doc.array(v, "reasonCode", "")?.first() {
        Some(r) => doc
            .opt_str(r, "text", "reasonCode[0]")?
            .map(str::to_owned)
            .unwrap_or_else(|| unit_name.clone()),
        None => unit_name.clone(),
    };
    let closed = if closed {
        let end = match v.get("occurrencePeriod") {
            Some(period) => doc.opt_str(period, "end", "occurrencePeriod")?,
            None => None,
        };
        let at = match end {
            Some(s) => timestamp(&doc, s, "occurrencePeriod.end")?,
            None => updated_at,
        };
        let reason = match v.get("statusReason") {
            Some(r) => localized(&doc, r, "text", "statusReason")?,
            None => None,
        };
        Some(ThreadClosed { at, reason })
    } else {
        None
    };
    Ok(Thread {
        id: doc.id.clone(),
        title,
        unit_name,
        expected_reply: localized_extension(&doc, v, EXT_EXPECTED_REPLY)?,
        notice: localized_extension(&doc, v, EXT_EMERGENCY_NOTICE)?,
        closed,
        updated_at,
    })
}

/// Reads a downloaded photo `Binary` about `patient` and checks it against the `photo`
/// the message announced (type; size and SHA-256 when known). Returns the bytes.
pub fn binary_from_fhir(
    v: &Value,
    patient: &PatientId,
    photo: &Photo,
) -> Result<Vec<u8>, DownloadError> {
    let doc = Doc::open(v, "Binary")?;
    let ctx = doc.req(v, "securityContext", "")?;
    if !is_patient(doc.opt_str(ctx, "reference", "securityContext")?, patient) {
        return Err(doc.err("securityContext.reference", Problem::Invalid));
    }
    if doc.str(v, "contentType", "")? != photo.content_type {
        return Err(doc.err("contentType", Problem::Invalid));
    }
    let bytes =
        base64_decode(doc.str(v, "data", "")?).ok_or_else(|| doc.err("data", Problem::Invalid))?;
    if photo.size != 0 && bytes.len() as u64 != photo.size {
        return Err(doc.err("data", Problem::Invalid));
    }
    if !photo.sha256.is_empty() {
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        if !hex_encode(digest.as_ref()).eq_ignore_ascii_case(&photo.sha256) {
            return Err(doc.err("data", Problem::Invalid));
        }
    }
    Ok(bytes)
}

// ------------------------------------------------------------------ encodings

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (FHIR `base64Binary`).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, c) in chars.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(B64[*c as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; padding optional, ASCII whitespace ignored. `None` if
/// invalid.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut padding = 0usize;
    for b in s.bytes() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None;
        }
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xFF) as u8);
        }
    }
    // 6 leftover bits can never make a byte: a truncated quantum.
    if bits >= 6 || padding > 2 {
        return None;
    }
    Some(out)
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
