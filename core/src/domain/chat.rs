//! Asynchronous chat with the care team: threads, messages, photos and their states, as
//! data and pure rules (validation, state order, unread counts).
//!
//! No I/O here: the store keeps messages sealed, the sync engine maps them to FHIR
//! `Communication`s (ADR 0009). Message text and photo bytes are patient data: no error
//! in this module ever contains them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::domain::text::LocalizedText;

/// Longest message text, in Unicode scalar values after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Most photos on one message.
pub const MAX_PHOTOS_PER_MESSAGE: usize = 5;
/// Largest photo accepted, in bytes (after metadata stripping).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// A message's client id: a UUIDv4 made on the device at compose time, the identifier
/// of its `Communication` at the region (so a repeat upload is recognised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub Uuid);

impl MessageId {
    /// An id from 16 random bytes (made a v4 UUID).
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        MessageId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// Parses the textual form.
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(MessageId)
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A conversation with a care unit, as the region provides it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The region's id of the thread (stable).
    pub id: String,
    /// Topic, e.g. "Hjärtsviktsmottagningen" or "Frågor om blodtryck".
    pub title: String,
    /// The care unit's name.
    pub unit_name: String,
    /// What the unit says about reply times ("Vi svarar inom två vardagar").
    pub expected_reply: Option<LocalizedText>,
    /// The notice the region sends: not for emergencies, call 112 or 1177.
    pub notice: Option<LocalizedText>,
    /// Closed by the unit: no more messages can be written.
    pub closed: Option<ThreadClosed>,
    /// When the region last changed the thread.
    pub updated_at: Timestamp,
}

/// Why and when a unit closed a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadClosed {
    /// When.
    pub at: Timestamp,
    /// The unit's reason, if given.
    pub reason: Option<LocalizedText>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The patient, on this or another device.
    Patient,
    /// The care unit (a nurse or doctor).
    CareUnit,
}

/// Where a patient's message is. Only moves forward: queued → sent → delivered → read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored on the phone, waiting for a network.
    Queued,
    /// The region's server has it.
    Sent,
    /// The care unit's system has received it.
    Delivered,
    /// Someone at the unit has read it.
    Read,
}

impl DeliveryState {
    /// The later of two states: a late or repeated update never moves a message back.
    pub fn advance(self, to: DeliveryState) -> DeliveryState {
        self.max(to)
    }

    /// Label for the patient; shown with an icon, never by colour alone.
    pub fn label(self) -> LocalizedText {
        match self {
            DeliveryState::Queued => LocalizedText::new("Väntar på nätverk", "Waiting for network"),
            DeliveryState::Sent => LocalizedText::new("Skickat", "Sent"),
            DeliveryState::Delivered => LocalizedText::new("Levererat", "Delivered"),
            DeliveryState::Read => LocalizedText::new("Läst", "Read"),
        }
    }
}

/// A photo attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    /// Local id (also the `Binary`'s identifier at the region).
    pub id: String,
    /// `image/jpeg`, `image/png` or `image/heic`.
    pub content_type: String,
    /// Size in bytes (after metadata stripping).
    pub size: u64,
    /// SHA-256 of the bytes, hex, for integrity and de-duplication.
    pub sha256: String,
    /// Whether the bytes are on this device now (downloaded photos are fetched lazily).
    pub local: bool,
}

/// One message in a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Client id (patient's messages) or the region's id (the unit's).
    pub id: String,
    /// The thread.
    pub thread_id: String,
    /// Who wrote it.
    pub author: Author,
    /// The text, trimmed.
    pub text: String,
    /// Attached photos.
    pub photos: Vec<Photo>,
    /// When it was written (patient: compose time; unit: `sent`).
    pub written_at: Timestamp,
    /// For the patient's messages: how far it has come.
    pub delivery: Option<DeliveryState>,
    /// For the unit's messages: when the patient read it (the receipt may still be
    /// queued).
    pub read_at: Option<Timestamp>,
    /// The message this one answers, if any.
    pub in_reply_to: Option<String>,
}

impl Message {
    /// A message from the unit that the patient has not read.
    pub fn is_unread(&self) -> bool {
        self.author == Author::CareUnit && self.read_at.is_none()
    }
}

/// A photo as the patient attaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhoto {
    /// The declared or detected type.
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// What the patient writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The thread.
    pub thread_id: String,
    /// The text.
    pub text: String,
    /// Photos.
    pub photos: Vec<NewPhoto>,
    /// The unit message this answers, if any.
    pub in_reply_to: Option<String>,
}

/// Why a message cannot be sent. Never contains the text or the photo.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChatError {
    /// Neither text nor a photo.
    #[error("the message is empty")]
    Empty,
    /// The text is longer than [`MAX_MESSAGE_CHARS`].
    #[error("the message is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Control characters other than line breaks and tabs.
    #[error("the message contains invalid characters")]
    ControlCharacters,
    /// More than [`MAX_PHOTOS_PER_MESSAGE`] photos.
    #[error("at most {max} photos per message")]
    TooManyPhotos {
        /// The limit.
        max: usize,
    },
    /// A photo larger than [`MAX_PHOTO_BYTES`].
    #[error("photo {index} is larger than {max_mb} MB")]
    PhotoTooLarge {
        /// Position among the attached photos, from 0.
        index: usize,
        /// The limit in MB.
        max_mb: usize,
    },
    /// Not a JPEG, PNG or HEIC image.
    #[error("photo {index} is not a JPEG, PNG or HEIC image")]
    UnsupportedPhoto {
        /// Position among the attached photos, from 0.
        index: usize,
    },
    /// The unit closed the thread.
    #[error("the care unit has closed this conversation")]
    ThreadClosed,
    /// No such thread.
    #[error("no such conversation")]
    NoSuchThread,
}

impl ChatError {
    /// What to tell the patient.
    pub fn message(&self) -> LocalizedText {
        match self {
            ChatError::Empty => LocalizedText::new("Meddelandet är tomt", "The message is empty"),
            ChatError::TooLong { max } => LocalizedText::new(
                format!("Meddelandet får vara högst {max} tecken"),
                format!("The message may be at most {max} characters"),
            ),
            ChatError::ControlCharacters => LocalizedText::new(
                "Meddelandet innehåller otillåtna tecken",
                "The message contains invalid characters",
            ),
            ChatError::TooManyPhotos { max } => LocalizedText::new(
                format!("Högst {max} bilder per meddelande"),
                format!("At most {max} photos per message"),
            ),
            ChatError::PhotoTooLarge { max_mb, .. } => LocalizedText::new(
                format!("Bilden är för stor (högst {max_mb} MB)"),
                format!("The photo is too large (at most {max_mb} MB)"),
            ),
            ChatError::UnsupportedPhoto { .. } => LocalizedText::new(
                "Bilden måste vara JPEG, PNG eller HEIC",
                "The photo must be JPEG, PNG or HEIC",
            ),
            ChatError::ThreadClosed => LocalizedText::new(
                "Mottagningen har stängt den här konversationen. Ring 1177 om du behöver råd, 112 vid nödsituation.",
                "The care unit has closed this conversation. Call 1177 for advice, 112 in an emergency.",
            ),
            ChatError::NoSuchThread => {
                LocalizedText::new("Konversationen finns inte", "No such conversation")
            }
        }
    }
}

/// The image type of `bytes` by its signature: JPEG, PNG or HEIC (ISO BMFF `ftyp` with a
/// HEIF brand). The declared type is not trusted.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Some("image/heic");
        }
    }
    None
}

/// Trims the text and checks the message: text length in characters (not bytes, so
/// Swedish letters and emoji count once), no control characters except line breaks and
/// tabs, photo count, size and type. Returns the trimmed text.
pub fn validate(message: &NewMessage) -> Result<String, ChatError> {
    let text = message.text.trim().to_owned();
    if text.is_empty() && message.photos.is_empty() {
        return Err(ChatError::Empty);
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ChatError::TooLong {
            max: MAX_MESSAGE_CHARS,
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ChatError::ControlCharacters);
    }
    if message.photos.len() > MAX_PHOTOS_PER_MESSAGE {
        return Err(ChatError::TooManyPhotos {
            max: MAX_PHOTOS_PER_MESSAGE,
        });
    }
    for (index, photo) in message.photos.iter().enumerate() {
        if photo.bytes.len() > MAX_PHOTO_BYTES {
            return Err(ChatError::PhotoTooLarge {
                index,
                max_mb: MAX_PHOTO_BYTES / (1024 * 1024),
            });
        }
        if image_type(&photo.bytes).is_none() {
            return Err(ChatError::UnsupportedPhoto { index });
        }
    }
    Ok(text)
}

/// Unread messages (from the unit, not yet read by the patient) among `messages`.
pub fn unread(messages: &[Message]) -> usize {
    messages.iter().filter(|m| m.is_unread()).count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn msg(text: &str) -> NewMessage {
        NewMessage {
            thread_id: "t1".into(),
            text: text.into(),
            photos: vec![],
            in_reply_to: None,
        }
    }

    fn jpeg() -> Vec<u8> {
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        assert_eq!(validate(&msg("  Hej!\n")), Ok("Hej!".to_owned()));
        let swedish = "å".repeat(MAX_MESSAGE_CHARS);
        assert!(
            validate(&msg(&swedish)).is_ok(),
            "4000 å is 8000 bytes but 4000 characters"
        );
        assert_eq!(
            validate(&msg(&"a".repeat(MAX_MESSAGE_CHARS + 1))),
            Err(ChatError::TooLong {
                max: MAX_MESSAGE_CHARS
            })
        );
        assert_eq!(validate(&msg("   ")), Err(ChatError::Empty));
        assert_eq!(
            validate(&msg("a\u{0007}b")),
            Err(ChatError::ControlCharacters)
        );
        assert!(validate(&msg("rad 1\nrad 2\ttab")).is_ok());
    }

    #[test]
    fn photos_are_checked_by_count_size_and_signature() {
        let with = |photos: Vec<Vec<u8>>| NewMessage {
            photos: photos
                .into_iter()
                .map(|bytes| NewPhoto {
                    content_type: "image/jpeg".into(),
                    bytes,
                })
                .collect(),
            ..msg("")
        };
        assert!(
            validate(&with(vec![jpeg()])).is_ok(),
            "a photo alone is a message"
        );
        assert_eq!(
            validate(&with(vec![jpeg(); MAX_PHOTOS_PER_MESSAGE + 1])),
            Err(ChatError::TooManyPhotos {
                max: MAX_PHOTOS_PER_MESSAGE
            })
        );
        let mut big = jpeg();
        big.resize(MAX_PHOTO_BYTES + 1, 0);
        assert!(matches!(
            validate(&with(vec![jpeg(), big])),
            Err(ChatError::PhotoTooLarge { index: 1, .. })
        ));
        assert_eq!(
            validate(&with(vec![b"GIF89a....".to_vec()])),
            Err(ChatError::UnsupportedPhoto { index: 0 })
        );
        let heic = [&[0, 0, 0, 24][..], b"ftypheic", &[0, 0, 0, 0]].concat();
        assert_eq!(image_type(&heic), Some("image/heic"));
        assert_eq!(
            image_type(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
            Some("image/png")
        );
    }

    #[test]
    fn delivery_never_moves_back() {
        use DeliveryState::*;
        assert_eq!(Sent.advance(Read), Read);
        assert_eq!(Read.advance(Delivered), Read);
        assert_eq!(Queued.advance(Queued), Queued);
    }

    proptest! {
        #[test]
        fn errors_never_contain_the_text(text in "\\PC{4001,4100}") {
            let err = validate(&msg(&text)).expect_err("too long");
            let shown = format!("{err} {:?} {}", err, err.message().en);
            prop_assert!(!shown.contains(text.trim()));
        }
    }
}
