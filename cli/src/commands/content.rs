//! `nara content list | read ID | search QUERY`: self-care content from the region,
//! offline (ADR 0011).
//!
//! Articles arrive with `nara sync` (or are provisioned through the core API). The
//! patient's content language is `--lang` (sv or en) unless `--content-lang` names
//! another (`fi`, `se`, `fit`); an article missing in it is shown in Swedish, and the
//! output says so. `nara content read` renders the sanitised document in the terminal:
//! links are printed as text with a numbered target list under the article.
//!
//! Exit codes: 0 done; 1 failure; 2 bad input (an unknown language, an invalid id);
//! 6 no such article on this device.

use clap::{Args, Subcommand};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Table};
use nara_core::Nara;
use nara_core::content::{ArticleSummary, ReadArticle, SearchHit};
use nara_core::domain::content::{
    AdviceCode, ArticleId, Block, ContentLanguage, Inline, LinkTarget,
};
use nara_core::domain::reading::Reading;
use nara_core::domain::text::Lang;
use owo_colors::OwoColorize as _;

use super::EXIT_INPUT;
use super::notices::fit;
use super::region::bilingual_error;
use super::{Ctx, print_json};
use crate::render;
use crate::render::tr;

/// Exit code: no such article on this device.
pub const EXIT_NOT_FOUND: u8 = 6;
/// Hits shown by `nara content search` unless `--limit` says otherwise.
pub const SEARCH_LIMIT: usize = 10;

/// `nara content ...`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 done; 1 failure; 2 bad input (an unknown language, an \
    invalid id); 6 no such article on this device."
)]
pub struct ContentArgs {
    /// The language to read content in: fi, se, fit, sv or en (default: --lang).
    #[arg(long, global = true, value_name = "fi|se|fit|sv|en")]
    pub content_lang: Option<String>,
    #[command(subcommand)]
    pub cmd: ContentCmd,
}

/// The subcommands of `nara content`.
#[derive(Debug, Subcommand)]
pub enum ContentCmd {
    /// Articles on this device: the ones your care team chose for you first.
    List,
    /// Read an article (rendered for the terminal; links listed under it).
    Read(ReadArgs),
    /// Search the articles (a word's beginning is enough: `blodtr` finds `blodtryck`).
    Search(SearchArgs),
}

/// Arguments of `nara content read`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The article's id (see `nara content list`).
    pub id: String,
}

/// Arguments of `nara content search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    pub query: String,
    /// At most this many hits.
    #[arg(long, default_value_t = SEARCH_LIMIT)]
    pub limit: usize,
}

/// The patient's content language for `--lang`.
pub fn preferred_for(lang: Lang) -> ContentLanguage {
    match lang {
        Lang::Sv => ContentLanguage::Sv,
        Lang::En => ContentLanguage::En,
    }
}

/// The content language: `--content-lang` if given, else `--lang`.
pub fn preferred(ctx: &Ctx, content_lang: Option<&str>) -> anyhow::Result<ContentLanguage> {
    match content_lang {
        None => Ok(preferred_for(ctx.lang)),
        Some(tag) => ContentLanguage::from_tag(tag).ok_or_else(|| {
            bilingual_error(
                ctx.lang,
                EXIT_INPUT,
                format!("Språket «{tag}» finns inte. Välj fi, se, fit, sv eller en."),
                format!("The language «{tag}» is unknown. Choose fi, se, fit, sv or en."),
            )
        }),
    }
}

/// "Shown in Swedish: there is no Finnish version" for a fallback, in the UI language.
pub fn fallback_note(lang: Lang, shown: ContentLanguage, preferred: ContentLanguage) -> String {
    let shown_name = shown.name();
    let wanted = preferred.name();
    match lang {
        Lang::Sv => format!(
            "Visas på {} eftersom artikeln inte finns på {}.",
            shown_name.sv, wanted.sv
        ),
        Lang::En => format!(
            "Shown in {} because the article is not available in {}.",
            shown_name.en, wanted.en
        ),
    }
}

fn not_found(lang: Lang, id: &str) -> anyhow::Error {
    bilingual_error(
        lang,
        EXIT_NOT_FOUND,
        format!("Artikeln «{id}» finns inte på den här enheten (den kommer med `nara sync`)."),
        format!("The article «{id}» is not on this device (articles come with `nara sync`)."),
    )
}

fn parse_id(lang: Lang, id: &str) -> anyhow::Result<ArticleId> {
    ArticleId::parse(id).ok_or_else(|| {
        bilingual_error(
            lang,
            EXIT_INPUT,
            format!("«{id}» är inget giltigt artikel-id."),
            format!("«{id}» is not a valid article id."),
        )
    })
}

/// The "read it" command for an article.
pub fn read_command(id: &ArticleId) -> String {
    format!("nara content read {id}")
}

/// The "what to do now" article for a red or yellow reading, if one is stored.
pub fn advice_article_id(
    nara: &Nara,
    reading: &Reading,
    preferred: ContentLanguage,
) -> anyhow::Result<Option<ArticleId>> {
    Ok(nara
        .content()
        .advice_article(reading, preferred)?
        .map(|a| a.id))
}

/// The one line under a red or yellow reading: "Vad gör jag nu? → nara content read ID".
pub fn advice_line(ctx: &Ctx, id: &ArticleId) -> String {
    format!(
        "  {} → {}",
        tr(ctx.lang, "Vad gör jag nu?", "What do I do now?"),
        read_command(id)
    )
}

fn summary_json(s: &ArticleSummary) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "language": s.language,
        "fell_back": s.fell_back,
        "title": s.title,
        "summary": s.summary,
        "topics": s.topics,
        "assigned": s.assigned,
        "available_offline": s.available_offline,
        "updated_at": s.updated_at,
    })
}

fn offline_mark(lang: Lang, available: bool) -> String {
    if available {
        format!("✓ {}", tr(lang, "ja", "yes"))
    } else {
        format!("✗ {}", tr(lang, "nej", "no"))
    }
}

/// The list as a table: "for you" marker, title, language (with a fallback note),
/// offline.
pub fn list_table(ctx: &Ctx, list: &[ArticleSummary], preferred: ContentLanguage) -> String {
    let lang = ctx.lang;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        tr(lang, "För dig", "For you"),
        tr(lang, "Titel", "Title"),
        tr(lang, "Språk", "Language"),
        "Offline".to_owned(),
        "Id".to_owned(),
    ]);
    fit(&mut t);
    for s in list {
        let mine = if s.assigned {
            let text = format!("★ {}", tr(lang, "För dig", "For you"));
            if ctx.color {
                text.bold().to_string()
            } else {
                text
            }
        } else {
            String::new()
        };
        let mut language = s.language.name().get(lang).to_owned();
        if s.fell_back {
            language.push_str(&format!(
                " ({} {})",
                tr(lang, "saknas på", "not in"),
                preferred.name().get(lang)
            ));
        }
        t.add_row(vec![
            Cell::new(mine),
            Cell::new(&s.title),
            Cell::new(language),
            Cell::new(offline_mark(lang, s.available_offline)),
            Cell::new(&s.id),
        ]);
    }
    t.to_string()
}

/// Runs `nara content list`.
fn list(ctx: &Ctx, preferred: ContentLanguage) -> anyhow::Result<()> {
    let nara = ctx.open()?;
    let all = nara.content().list(preferred)?;
    if ctx.json {
        let articles: Vec<serde_json::Value> = all.iter().map(summary_json).collect();
        return print_json(&serde_json::json!({
            "preferred": preferred,
            "articles": articles,
        }));
    }
    if all.is_empty() {
        println!(
            "{}",
            tr(
                ctx.lang,
                "Inga artiklar ännu (de kommer med `nara sync`).",
                "No articles yet (they come with `nara sync`)."
            )
        );
        return Ok(());
    }
    println!("{}", list_table(ctx, &all, preferred));
    println!(
        "{}",
        render::dim(
            ctx,
            &tr(
                ctx.lang,
                "Läs en artikel: nara content read ID · Sök: nara content search ORD",
                "Read an article: nara content read ID · Search: nara content search WORDS"
            )
        )
    );
    Ok(())
}

/// The style of a run of text in a rendered block.
#[derive(Debug, Clone, Default)]
struct Style {
    strong: bool,
    emphasis: bool,
    /// Underlined: link text and headings.
    link: bool,
}

/// A piece of inline text before wrapping.
enum Tok {
    Piece(String, Style),
    Space,
    Break,
}

/// Renders a document for the terminal, collecting link targets as footnotes.
pub struct DocRenderer<'a> {
    ctx: &'a Ctx,
    width: usize,
    /// The link targets, in order of first appearance (footnote `[n]` is index n-1).
    pub links: Vec<LinkTarget>,
    lines: Vec<String>,
}

/// The terminal width to wrap to: `$COLUMNS`, else the terminal's, else 80; kept within
/// 40 to 100 columns so lines stay readable.
pub fn wrap_width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    let from_term = || Table::new().width().map(usize::from);
    from_env.or_else(from_term).unwrap_or(80).clamp(40, 100)
}

impl<'a> DocRenderer<'a> {
    /// A renderer wrapping to `width` columns.
    pub fn new(ctx: &'a Ctx, width: usize) -> Self {
        DocRenderer {
            ctx,
            width,
            links: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn footnote(&mut self, target: &LinkTarget) -> usize {
        if let Some(i) = self.links.iter().position(|l| l == target) {
            return i + 1;
        }
        self.links.push(target.clone());
        self.links.len()
    }

    /// Flattens inlines into styled pieces, spaces and hard breaks.
    fn tokens(&mut self, inlines: &[Inline], style: &Style, out: &mut Vec<Tok>) {
        for i in inlines {
            match i {
                Inline::Text(t) => {
                    for (n, piece) in t.split(char::is_whitespace).enumerate() {
                        if n > 0 {
                            out.push(Tok::Space);
                        }
                        if !piece.is_empty() {
                            out.push(Tok::Piece(piece.to_owned(), style.clone()));
                        }
                    }
                }
                Inline::Emphasis(inner) => {
                    let s = Style {
                        emphasis: true,
                        ..style.clone()
                    };
                    self.tokens(inner, &s, out);
                }
                Inline::Strong(inner) => {
                    let s = Style {
                        strong: true,
                        ..style.clone()
                    };
                    self.tokens(inner, &s, out);
                }
                Inline::Link { target, inlines } => {
                    let n = self.footnote(target);
                    let s = Style {
                        link: true,
                        ..style.clone()
                    };
                    self.tokens(inlines, &s, out);
                    out.push(Tok::Piece(format!("[{n}]"), Style::default()));
                }
                Inline::LineBreak => out.push(Tok::Break),
            }
        }
    }

    fn paint(&self, text: &str, style: &Style) -> String {
        if !self.ctx.color {
            return text.to_owned();
        }
        let mut s = text.to_owned();
        if style.strong {
            s = s.bold().to_string();
        }
        if style.emphasis {
            s = s.italic().to_string();
        }
        if style.link {
            s = s.underline().to_string();
        }
        s
    }

    /// Wraps inlines to the width, first line after `first`, the rest after `rest`.
    fn wrap(&mut self, inlines: &[Inline], base: &Style, first: &str, rest: &str) {
        let mut toks = Vec::new();
        self.tokens(inlines, base, &mut toks);
        // Words: pieces not separated by a space (a link and its footnote mark stay one).
        let mut groups: Vec<Option<Vec<(String, Style)>>> = Vec::new();
        let mut word: Vec<(String, Style)> = Vec::new();
        for t in toks {
            match t {
                Tok::Piece(text, style) => word.push((text, style)),
                Tok::Space => {
                    if !word.is_empty() {
                        groups.push(Some(std::mem::take(&mut word)));
                    }
                }
                Tok::Break => {
                    if !word.is_empty() {
                        groups.push(Some(std::mem::take(&mut word)));
                    }
                    groups.push(None);
                }
            }
        }
        if !word.is_empty() {
            groups.push(Some(word));
        }
        let mut lines = Vec::new();
        let mut line = first.to_owned();
        let mut visible = first.chars().count();
        let mut empty = true;
        for g in groups {
            let Some(parts) = g else {
                lines.push(std::mem::replace(&mut line, rest.to_owned()));
                visible = rest.chars().count();
                empty = true;
                continue;
            };
            let len: usize = parts.iter().map(|(t, _)| t.chars().count()).sum();
            if !empty && visible + 1 + len > self.width {
                lines.push(std::mem::replace(&mut line, rest.to_owned()));
                visible = rest.chars().count();
                empty = true;
            }
            if !empty {
                line.push(' ');
                visible += 1;
            }
            for (t, s) in &parts {
                line.push_str(&self.paint(t, s));
            }
            visible += len;
            empty = false;
        }
        if !empty || lines.is_empty() {
            lines.push(line);
        }
        self.lines.extend(lines);
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.trim().is_empty()) {
            self.lines.push(String::new());
        }
    }

    /// Renders blocks, each line starting with `indent`.
    pub fn blocks(&mut self, blocks: &[Block], indent: &str) {
        for b in blocks {
            self.block(b, indent);
        }
    }

    fn block(&mut self, b: &Block, indent: &str) {
        let lang = self.ctx.lang;
        match b {
            Block::Heading { level, inlines } => {
                self.blank();
                let start = self.lines.len();
                // Bold and underlined word by word (a style reset inside a line would
                // end an underline put around it).
                let style = Style {
                    strong: true,
                    link: true,
                    ..Style::default()
                };
                self.wrap(inlines, &style, indent, indent);
                if !self.ctx.color {
                    let longest = self.lines[start..]
                        .iter()
                        .map(|l| l.chars().count().saturating_sub(indent.chars().count()))
                        .max()
                        .unwrap_or(0);
                    let mark = if *level <= 1 { "═" } else { "─" };
                    self.lines.push(format!("{indent}{}", mark.repeat(longest)));
                }
            }
            Block::Paragraph(inlines) => {
                self.blank();
                self.wrap(inlines, &Style::default(), indent, indent);
            }
            Block::BulletList(items) => {
                self.blank();
                for item in items {
                    self.item(item, indent, "• ");
                }
            }
            Block::OrderedList { start, items } => {
                self.blank();
                let last = start.saturating_add(items.len() as u64);
                let digits = last.to_string().len();
                for (n, item) in items.iter().enumerate() {
                    let number = start.saturating_add(n as u64);
                    let marker = format!("{number:>digits$}. ");
                    self.item(item, indent, &marker);
                }
            }
            Block::Quote(blocks) => {
                self.blank();
                self.blocks(blocks, &format!("{indent}│ "));
            }
            Block::Image { alt, .. } => {
                self.blank();
                let label = tr(lang, "Bild", "Image");
                let text = if alt.trim().is_empty() {
                    format!("[{label}]")
                } else {
                    format!("[{label}: {}]", alt.trim())
                };
                self.wrap(&[Inline::text(text)], &Style::default(), indent, indent);
            }
            Block::Rule => {
                self.blank();
                let n = self.width.saturating_sub(indent.chars().count()).min(40);
                self.lines.push(format!("{indent}{}", "─".repeat(n)));
            }
        }
    }

    fn item(&mut self, item: &[Block], indent: &str, marker: &str) {
        let rest = format!("{indent}{}", " ".repeat(marker.chars().count()));
        let first = format!("{indent}{marker}");
        let mut blocks = item.iter();
        match blocks.next() {
            Some(Block::Paragraph(inlines)) => {
                self.wrap(inlines, &Style::default(), &first, &rest);
            }
            Some(other) => {
                self.lines.push(first.trim_end().to_owned());
                self.block(other, &rest);
            }
            None => self.lines.push(first.trim_end().to_owned()),
        }
        for b in blocks {
            self.block(b, &rest);
        }
    }

    /// The rendered lines.
    pub fn finish(self) -> (Vec<String>, Vec<LinkTarget>) {
        (self.lines, self.links)
    }
}

/// What a link target does in the terminal, e.g. `nara content read ID`.
pub fn target_text(
    lang: Lang,
    target: &LinkTarget,
    advice: &dyn Fn(&AdviceCode) -> Option<ArticleId>,
) -> String {
    match target {
        LinkTarget::Article(id) => read_command(id),
        LinkTarget::ReadingAdvice(code) => match advice(code) {
            Some(id) => format!(
                "{} → {}",
                tr(lang, "Vad gör jag nu?", "What do I do now?"),
                read_command(&id)
            ),
            None => format!(
                "{} ({})",
                tr(
                    lang,
                    "Råd för ditt mätvärde, inte på enheten ännu",
                    "Advice for your reading, not on this device yet"
                ),
                target.uri()
            ),
        },
        LinkTarget::External(url) => format!("🌐 {url}"),
        LinkTarget::Phone(number) => format!("☎ {number} (tel:{number})"),
    }
}

/// The lines of an article for the terminal: title, notes, body, link targets.
pub fn article_lines(
    ctx: &Ctx,
    a: &ReadArticle,
    preferred: ContentLanguage,
    width: usize,
    advice: &dyn Fn(&AdviceCode) -> Option<ArticleId>,
) -> Vec<String> {
    let lang = ctx.lang;
    let mut out = vec![render::heading(ctx, &a.meta.title)];
    if a.fell_back {
        out.push(format!(
            "ⓘ {}",
            fallback_note(lang, a.meta.language, preferred)
        ));
    }
    if !a.meta.summary.is_empty() {
        let mut r = DocRenderer::new(ctx, width);
        r.wrap(
            &[Inline::text(a.meta.summary.clone())],
            &Style::default(),
            "",
            "",
        );
        let (lines, _) = r.finish();
        out.extend(lines.iter().map(|l| render::dim(ctx, l)));
    }
    if !a.available_offline {
        out.push(format!(
            "⚠ {}",
            tr(
                lang,
                "Inte tillgänglig offline: texten hämtas vid nästa synk.",
                "Not available offline: the text comes with the next sync."
            )
        ));
    }
    let mut r = DocRenderer::new(ctx, width);
    r.blocks(&a.document.blocks, "");
    let (lines, links) = r.finish();
    out.push(String::new());
    out.extend(lines);
    if !links.is_empty() {
        out.push(String::new());
        out.push(tr(lang, "Länkar:", "Links:"));
        for (i, l) in links.iter().enumerate() {
            out.push(format!("  [{}] {}", i + 1, target_text(lang, l, advice)));
        }
    }
    out
}

/// Finds the stored article answering an advice code, as the app would open it (the
/// core's rule, with the article metadata read once for every link).
pub fn advice_lookup(
    nara: &Nara,
    preferred: ContentLanguage,
) -> anyhow::Result<impl Fn(&AdviceCode) -> Option<ArticleId>> {
    let index = nara.content().advice_index(preferred)?;
    Ok(move |code: &AdviceCode| index.article(code).map(|a| a.id))
}

/// Runs `nara content read`.
fn read(ctx: &Ctx, preferred: ContentLanguage, args: &ReadArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let id = parse_id(lang, &args.id)?;
    let nara = ctx.open()?;
    let a = nara
        .content()
        .read(&id, preferred)?
        .ok_or_else(|| not_found(lang, &args.id))?;
    let advice = advice_lookup(&nara, preferred)?;
    if ctx.json {
        let mut r = DocRenderer::new(ctx, wrap_width());
        r.blocks(&a.document.blocks, "");
        let (_, links) = r.finish();
        let links: Vec<serde_json::Value> = links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::json!({
                    "n": i + 1,
                    "target": l,
                    "uri": l.uri(),
                    "text": target_text(lang, l, &advice),
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "preferred": preferred,
            "meta": a.meta,
            "fell_back": a.fell_back,
            "available_offline": a.available_offline,
            "document": a.document,
            "links": links,
        }));
    }
    for line in article_lines(ctx, &a, preferred, wrap_width(), &advice) {
        println!("{line}");
    }
    Ok(())
}

/// A snippet as one line: highlighted parts in «» (and bold and coloured when colours
/// are on).
pub fn snippet_line(ctx: &Ctx, hit: &SearchHit) -> String {
    hit.snippet
        .iter()
        .map(|p| {
            if p.highlighted {
                let marked = format!("«{}»", p.text);
                if ctx.color {
                    marked.bold().yellow().to_string()
                } else {
                    marked
                }
            } else {
                p.text.clone()
            }
        })
        .collect()
}

/// Runs `nara content search`.
fn search(ctx: &Ctx, preferred: ContentLanguage, args: &SearchArgs) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let nara = ctx.open()?;
    let hits = nara.content().search(&args.query, preferred, args.limit)?;
    if ctx.json {
        let all: Vec<serde_json::Value> = hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "id": h.id,
                    "language": h.language,
                    "fell_back": h.fell_back,
                    "title": h.title,
                    "snippet": h.snippet.iter().map(|p| serde_json::json!({
                        "text": p.text,
                        "highlighted": p.highlighted,
                    })).collect::<Vec<_>>(),
                    "rank": h.rank,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "query": args.query,
            "preferred": preferred,
            "hits": all,
        }));
    }
    if hits.is_empty() {
        println!(
            "{}",
            match lang {
                Lang::Sv => format!("Inga träffar för «{}».", args.query),
                Lang::En => format!("No hits for «{}».", args.query),
            }
        );
        return Ok(());
    }
    for (i, h) in hits.iter().enumerate() {
        let title = if ctx.color {
            h.title.bold().to_string()
        } else {
            h.title.clone()
        };
        let mut head = format!("{:>2}. {title}", i + 1);
        if h.fell_back {
            head.push_str(&format!("  ({})", tr(lang, "på svenska", "in Swedish")));
        }
        println!("{head}");
        println!("    {}", snippet_line(ctx, h));
        println!(
            "    {}",
            render::dim(ctx, &format!("→ {}", read_command(&h.id)))
        );
    }
    Ok(())
}

/// Runs `nara content ...`.
pub fn run(ctx: &Ctx, args: ContentArgs) -> anyhow::Result<()> {
    let preferred = preferred(ctx, args.content_lang.as_deref())?;
    match args.cmd {
        ContentCmd::List => list(ctx, preferred),
        ContentCmd::Read(a) => read(ctx, preferred, &a),
        ContentCmd::Search(a) => search(ctx, preferred, &a),
    }
}
