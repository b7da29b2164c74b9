//! `nara chat threads | show THREAD [--all] | send THREAD TEXT [--photo FILE]...`: chat
//! with the care team, offline (the messages go with `nara sync`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};
use nara_core::chat::ThreadSummary;
use nara_core::domain::chat::{
    Author, ChatError, DeliveryState, Message, NewMessage, NewPhoto, Thread, image_type,
};
use nara_core::domain::text::{Lang, LocalizedText};
use nara_core::{Nara, NaraError};

use super::region::bilingual_error;
use super::{Ctx, print_json};
use crate::render;
use crate::render::tr;

/// Messages on one page of `nara chat show`.
pub const PAGE: usize = 20;

/// `nara chat ...`.
#[derive(Debug, Subcommand)]
pub enum ChatCmd {
    /// Conversations with the care team: unit, unread, last activity, open or closed.
    Threads,
    /// The newest messages of a conversation (oldest at the bottom... top, newest last);
    /// marks the unit's shown messages read.
    Show(ShowArgs),
    /// Write a message (stored offline; `nara sync` sends it).
    Send(SendArgs),
}

/// Arguments of `nara chat show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The thread's id (see `nara chat threads`).
    pub thread: String,
    /// The whole conversation, not only the newest page.
    #[arg(long)]
    pub all: bool,
}

/// Arguments of `nara chat send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The thread's id (see `nara chat threads`).
    pub thread: String,
    /// The message.
    pub text: String,
    /// A photo to attach (JPEG, PNG or HEIC; repeat for more).
    #[arg(long, value_name = "FILE")]
    pub photo: Vec<PathBuf>,
}

/// The 112/1177 notice shown when the region sent none.
pub fn default_notice() -> LocalizedText {
    LocalizedText::new(
        "Chatten är inte för akuta ärenden. Ring 112 vid nödsituation, 1177 för sjukvårdsrådgivning.",
        "The chat is not for emergencies. Call 112 in an emergency, 1177 for medical advice.",
    )
}

/// A chat error for the user, in both languages, exit 2; other errors unchanged.
pub fn chat_error(lang: Lang, e: NaraError) -> anyhow::Error {
    match e {
        NaraError::Chat(c) => user_chat_error(lang, &c),
        other => other.into(),
    }
}

fn user_chat_error(lang: Lang, c: &ChatError) -> anyhow::Error {
    let m = c.message();
    bilingual_error(lang, 2, m.sv, m.en)
}

/// Icon and word of a delivery state: never colour alone.
pub fn delivery(lang: Lang, state: DeliveryState) -> String {
    let icon = match state {
        DeliveryState::Queued => "⏳",
        DeliveryState::Sent => "✓",
        DeliveryState::Delivered => "✓✓",
        DeliveryState::Read => "👁",
    };
    format!("{icon} {}", state.label().get(lang))
}

fn open_marker(lang: Lang, t: &Thread) -> String {
    match &t.closed {
        None => format!("● {}", tr(lang, "öppen", "open")),
        Some(_) => format!("✕ {}", tr(lang, "stängd", "closed")),
    }
}

/// The thread list as a table.
pub fn threads_table(ctx: &Ctx, threads: &[ThreadSummary]) -> String {
    let lang = ctx.lang;
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            tr(lang, "Tråd", "Thread"),
            tr(lang, "Ämne", "Topic"),
            tr(lang, "Mottagning", "Unit"),
            tr(lang, "Olästa", "Unread"),
            tr(lang, "Senast", "Last activity"),
            tr(lang, "Status", "State"),
        ]);
    for s in threads {
        let unread = if s.unread > 0 {
            format!("● {}", s.unread)
        } else {
            "0".to_owned()
        };
        table.add_row(vec![
            Cell::new(&s.thread.id),
            Cell::new(&s.thread.title),
            Cell::new(&s.thread.unit_name),
            Cell::new(unread),
            Cell::new(render::system_time(
                s.last_message_at.unwrap_or(s.thread.updated_at),
            )),
            Cell::new(open_marker(lang, &s.thread)),
        ]);
    }
    table.to_string()
}

fn notices(threads: &[ThreadSummary]) -> Vec<LocalizedText> {
    let mut out: Vec<LocalizedText> = Vec::new();
    for s in threads {
        if let Some(n) = &s.thread.notice {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
    }
    if out.is_empty() {
        out.push(default_notice());
    }
    out
}

fn threads(ctx: &Ctx) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let list = nara.chat().threads()?;
    let notices = notices(&list);
    if ctx.json {
        let threads: Vec<serde_json::Value> = list
            .iter()
            .map(|s| {
                serde_json::json!({
                    "thread": s.thread,
                    "unread": s.unread,
                    "last_message_at": s.last_message_at,
                    "open": s.thread.closed.is_none(),
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "threads": threads,
            "unread_total": nara.chat().unread_total()?,
            "notice": notices,
        }));
    }
    if list.is_empty() {
        println!(
            "{}",
            tr(
                ctx.lang,
                "Inga konversationer än (de kommer med `nara sync` när mottagningen startar en).",
                "No conversations yet (they come with `nara sync` once a care unit starts one)."
            )
        );
    } else {
        println!("{}", threads_table(ctx, &list));
    }
    for n in &notices {
        println!("⚠ {}", n.get(ctx.lang));
    }
    Ok(())
}

/// One message as lines for the terminal.
pub fn message_lines(ctx: &Ctx, thread: &Thread, m: &Message) -> Vec<String> {
    let lang = ctx.lang;
    let who = match m.author {
        Author::Patient => tr(lang, "Du", "You"),
        Author::CareUnit => thread.unit_name.clone(),
    };
    let mut head = format!("{} · {}", render::system_time(m.written_at), who);
    if let Some(state) = m.delivery {
        head.push_str(&format!("  [{}]", delivery(lang, state)));
    }
    if m.is_unread() {
        head.push_str(&format!("  ● {}", tr(lang, "ny", "new")));
    }
    let mut lines = vec![render::dim(ctx, &head)];
    for line in m.text.lines() {
        lines.push(format!("  {line}"));
    }
    for p in &m.photos {
        let kb = p.size.div_ceil(1024);
        let place = if p.local {
            tr(lang, "på enheten", "on this device")
        } else {
            tr(lang, "hämtas vid synk", "fetched on sync")
        };
        lines.push(format!(
            "  📷 {} ({}, {kb} kB, {place})",
            tr(lang, "Bild", "Photo"),
            p.content_type
        ));
    }
    lines
}

/// The thread's newest page (or all of it), newest first as the core returns it.
pub fn load(nara: &Nara, thread_id: &str, all: bool) -> anyhow::Result<Vec<Message>> {
    let mut page = nara.chat().page(thread_id, None, PAGE)?;
    let mut messages = std::mem::take(&mut page.messages);
    while let Some(cursor) = page.next.filter(|_| all) {
        page = nara.chat().page(thread_id, Some(cursor), PAGE)?;
        messages.append(&mut page.messages);
    }
    Ok(messages)
}

/// Prints a thread (oldest at the top, newest at the bottom like a chat) and marks the
/// unit's shown messages read. Returns the messages shown (newest first) and how many
/// were newly marked read.
pub fn show_thread(
    ctx: &Ctx,
    nara: &Nara,
    thread_id: &str,
    all: bool,
    say: &dyn Fn(String),
) -> anyhow::Result<(Thread, Vec<Message>, u64, bool)> {
    let lang = ctx.lang;
    let thread = nara
        .chat()
        .thread(thread_id)?
        .ok_or_else(|| user_chat_error(lang, &ChatError::NoSuchThread))?;
    let messages = load(nara, thread_id, all)?;
    let more = !all && nara.chat().page(thread_id, None, PAGE)?.next.is_some();
    if !ctx.json {
        say(render::heading(
            ctx,
            &format!(
                "{} · {} · {}",
                thread.title,
                thread.unit_name,
                open_marker(lang, &thread)
            ),
        ));
        if let Some(r) = &thread.expected_reply {
            say(render::dim(ctx, r.get(lang)));
        }
        if more {
            say(render::dim(
                ctx,
                &tr(
                    lang,
                    "… äldre meddelanden finns (--all visar alla)",
                    "… older messages exist (--all shows them all)",
                ),
            ));
        }
        if messages.is_empty() {
            say(tr(lang, "Inga meddelanden än.", "No messages yet."));
        }
        for m in messages.iter().rev() {
            for line in message_lines(ctx, &thread, m) {
                say(line);
            }
        }
        if let Some(c) = &thread.closed {
            let reason = c.reason.as_ref().map(|r| r.get(lang)).unwrap_or_default();
            say(format!(
                "✕ {} {} {reason}",
                tr(lang, "Stängd av mottagningen", "Closed by the care unit"),
                render::system_time(c.at)
            ));
        }
        let notice = thread.notice.clone().unwrap_or_else(default_notice);
        say(format!("⚠ {}", notice.get(lang)));
    }
    let marked = match messages.first() {
        Some(newest) => nara.chat().mark_read(thread_id, &newest.id)?,
        None => 0,
    };
    Ok((thread, messages, marked, more))
}

fn show(ctx: &Ctx, args: &ShowArgs) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let (thread, messages, marked, more) =
        show_thread(ctx, &nara, &args.thread, args.all, &|l| println!("{l}"))?;
    if ctx.json {
        let mut oldest_first = messages;
        oldest_first.reverse();
        return print_json(&serde_json::json!({
            "thread": thread,
            "messages": oldest_first,
            "older": more,
            "marked_read": marked,
        }));
    }
    Ok(())
}

fn read_photo(lang: Lang, path: &PathBuf) -> anyhow::Result<NewPhoto> {
    let bytes = std::fs::read(path).map_err(|e| {
        bilingual_error(
            lang,
            2,
            format!("Kan inte läsa bilden {}: {e}", path.display()),
            format!("Cannot read the photo {}: {e}", path.display()),
        )
    })?;
    let content_type = image_type(&bytes)
        .unwrap_or("application/octet-stream")
        .to_owned();
    Ok(NewPhoto {
        content_type,
        bytes,
    })
}

/// Composes a message (offline).
pub fn send_message(
    lang: Lang,
    nara: &Nara,
    thread: &str,
    text: &str,
    photos: Vec<NewPhoto>,
) -> anyhow::Result<Message> {
    nara.chat()
        .compose(NewMessage {
            thread_id: thread.to_owned(),
            text: text.to_owned(),
            photos,
            in_reply_to: None,
        })
        .map_err(|e| chat_error(lang, e))
}

fn send(ctx: &Ctx, args: &SendArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let photos = args
        .photo
        .iter()
        .map(|p| read_photo(lang, p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let nara = ctx.open()?;
    let m = send_message(lang, &nara, &args.thread, &args.text, photos)?;
    if ctx.json {
        return print_json(&m);
    }
    let state = m.delivery.unwrap_or(DeliveryState::Queued);
    println!(
        "✓ {}  [{}]",
        tr(
            lang,
            "Meddelandet är sparat och skickas vid nästa synk",
            "The message is stored and goes with the next sync"
        ),
        delivery(lang, state)
    );
    if !m.photos.is_empty() {
        println!(
            "  📷 {} {}",
            m.photos.len(),
            tr(
                lang,
                "bild(er), utan plats och andra metadata",
                "photo(s), without location or other metadata"
            )
        );
    }
    Ok(())
}

/// Runs `nara chat ...`.
pub fn run(ctx: &Ctx, cmd: ChatCmd) -> anyhow::Result<()> {
    match cmd {
        ChatCmd::Threads => threads(ctx),
        ChatCmd::Show(args) => show(ctx, &args),
        ChatCmd::Send(args) => send(ctx, &args),
    }
}
