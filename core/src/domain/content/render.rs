//! Markdown to [`Document`]: the one place article bodies are parsed, so Android and iOS
//! render the same thing, natively and accessibly, and never render HTML.
//!
//! # The safe subset
//!
//! Articles are CommonMark, parsed by `pulldown-cmark` with no extensions: tables,
//! footnotes, strikethrough, task lists, smart punctuation, heading attributes, math
//! and metadata blocks are not enabled, so their syntax stays literal text. What is kept:
//!
//! - **Headings** `#`, `##`, `###`; deeper ones (`####` to `######`) become level 3.
//! - **Paragraphs**; a soft line break becomes a space, a hard one (two spaces or `\`
//!   at the end of a line) an [`Inline::LineBreak`].
//! - **Emphasis** `*x*` and **strong** `**x**`.
//! - **Bullet and numbered lists** (with the first number), **block quotes** and
//!   **thematic breaks** `---`. Quotes and lists nest at most [`MAX_NESTING`] deep and
//!   emphasis and links at most [`MAX_NESTING`] deep; deeper containers are flattened
//!   into their parent, text kept.
//! - **Links** only to the targets [`super::sanitize::link_target`] allows (`https:`,
//!   `tel:`, `nara:content/<id>`, `nara:advice/<code>`). Any other link (`javascript:`,
//!   `data:`, `http:`, `file:`, `mailto:`, relative) becomes its text, target dropped;
//!   so does a link without text.
//! - **Images** only as `nara:image/<id>`, images shipped with the article. An image
//!   becomes an [`Block::Image`] of its own, placed after the paragraph or heading it
//!   was written in. Any other image is dropped and its alt text, if any, kept as a
//!   paragraph.
//! - **Code** spans and blocks become plain text (a code block's lines joined by line
//!   breaks).
//! - **Raw HTML** is never passed on. An HTML block is dropped whole, text included.
//!   Inline tags are dropped and the text between them kept (`<b>x</b>` → `x`), except
//!   inside an inline `<script>` or `<style>`, whose content is dropped too (to its
//!   closing tag, or else to the end of the paragraph). An inline `<br>` becomes a line
//!   break.
//! - **Text** is cleaned by [`super::sanitize::clean_text`]: no control or bidirectional
//!   control characters, NFC. Empty paragraphs, headings, quotes and lists are dropped.
//!
//! Parsing never fails and never panics: any input gives a document.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};

use crate::domain::content::model::{Article, Block, Document, ImageId, Inline, LinkTarget};
use crate::domain::content::sanitize::{clean_text, image_target, link_target};

/// The deepest nesting of quotes and lists kept, and separately of emphasis and links.
pub const MAX_NESTING: usize = 8;

/// Parses an article body in the safe subset (see the module docs) into a [`Document`].
pub fn parse(markdown: &str) -> Document {
    let mut builder = Builder::new();
    for event in Parser::new_ext(markdown, Options::empty()) {
        builder.event(event);
    }
    builder.finish()
}

/// Parses an article's body and checks its images against those shipped with it: an
/// image the article does not ship is dropped (alt text kept as a paragraph), and an
/// image without alt text in the Markdown takes the shipped image's description.
pub fn article_document(article: &Article) -> Document {
    let mut doc = parse(&article.body_markdown);
    doc.blocks = resolve_images(std::mem::take(&mut doc.blocks), article);
    doc
}

fn resolve_images(blocks: Vec<Block>, article: &Article) -> Vec<Block> {
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        match block {
            Block::Image { image_id, alt } => {
                match article.images.iter().find(|i| i.id == image_id) {
                    Some(shipped) => {
                        let alt = if alt.is_empty() {
                            clean_text(&shipped.alt).trim().to_owned()
                        } else {
                            alt
                        };
                        out.push(Block::Image { image_id, alt });
                    }
                    None if !alt.is_empty() => out.push(Block::Paragraph(vec![Inline::Text(alt)])),
                    None => {}
                }
            }
            Block::Quote(blocks) => out.push(Block::Quote(resolve_images(blocks, article))),
            Block::BulletList(items) => out.push(Block::BulletList(
                items
                    .into_iter()
                    .map(|i| resolve_images(i, article))
                    .collect(),
            )),
            Block::OrderedList { start, items } => out.push(Block::OrderedList {
                start,
                items: items
                    .into_iter()
                    .map(|i| resolve_images(i, article))
                    .collect(),
            }),
            other => out.push(other),
        }
    }
    out
}

/// The document's text for search indexing and snippets: one line per paragraph,
/// heading, list item paragraph and image description; link texts included, targets not.
pub fn plain_text(doc: &Document) -> String {
    let mut lines = Vec::new();
    blocks_text(&doc.blocks, &mut lines);
    lines.join("\n")
}

fn blocks_text(blocks: &[Block], lines: &mut Vec<String>) {
    for block in blocks {
        match block {
            Block::Heading { inlines, .. } | Block::Paragraph(inlines) => {
                let mut s = String::new();
                inlines_text(inlines, &mut s);
                lines.push(s);
            }
            Block::BulletList(items) | Block::OrderedList { items, .. } => {
                for item in items {
                    blocks_text(item, lines);
                }
            }
            Block::Quote(blocks) => blocks_text(blocks, lines),
            Block::Image { alt, .. } if !alt.is_empty() => lines.push(alt.clone()),
            Block::Image { .. } | Block::Rule => {}
        }
    }
}

fn inlines_text(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => out.push_str(t),
            Inline::Emphasis(i) | Inline::Strong(i) | Inline::Link { inlines: i, .. } => {
                inlines_text(i, out)
            }
            Inline::LineBreak => out.push('\n'),
        }
    }
}

/// Every link target in the document, in reading order, each once (for prefetching
/// linked articles and checking advice links).
pub fn links(doc: &Document) -> Vec<LinkTarget> {
    let mut out = Vec::new();
    walk(&doc.blocks, &mut |b| {
        if let Block::Heading { inlines, .. } | Block::Paragraph(inlines) = b {
            inline_links(inlines, &mut out);
        }
    });
    out
}

fn inline_links(inlines: &[Inline], out: &mut Vec<LinkTarget>) {
    for inline in inlines {
        match inline {
            Inline::Link { target, inlines } => {
                if !out.contains(target) {
                    out.push(target.clone());
                }
                inline_links(inlines, out);
            }
            Inline::Emphasis(i) | Inline::Strong(i) => inline_links(i, out),
            Inline::Text(_) | Inline::LineBreak => {}
        }
    }
}

/// Every image the document shows, in reading order, each once (for caching).
pub fn images(doc: &Document) -> Vec<ImageId> {
    let mut out: Vec<ImageId> = Vec::new();
    walk(&doc.blocks, &mut |b| {
        if let Block::Image { image_id, .. } = b {
            if !out.contains(image_id) {
                out.push(image_id.clone());
            }
        }
    });
    out
}

fn walk(blocks: &[Block], f: &mut impl FnMut(&Block)) {
    for block in blocks {
        f(block);
        match block {
            Block::Quote(blocks) => walk(blocks, f),
            Block::BulletList(items) | Block::OrderedList { items, .. } => {
                for item in items {
                    walk(item, f);
                }
            }
            _ => {}
        }
    }
}

/// One open container while the events stream by.
enum Frame {
    /// The root, a quote or a list item: blocks, and inlines not yet in a paragraph
    /// (tight list items hold text directly).
    Blocks {
        kind: BlocksKind,
        blocks: Vec<Block>,
        pending: Vec<Inline>,
    },
    /// A list collecting its items.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    /// A paragraph or heading, with the image blocks written inside it.
    Text {
        heading: Option<u8>,
        inlines: Vec<Inline>,
        after: Vec<Block>,
    },
    /// Emphasis, strong or a link.
    Span {
        kind: SpanKind,
        inlines: Vec<Inline>,
    },
    /// An image collecting its alt text; `nested` counts containers opened inside it.
    Image {
        target: Option<ImageId>,
        alt: String,
        nested: usize,
    },
    /// A code block collecting its text.
    Code(String),
    /// A container not kept (too deep, or not in the subset): its content goes to the
    /// enclosing container.
    Transparent,
    /// A container whose content is dropped whole (an HTML block).
    Skip { nested: usize },
}

#[derive(PartialEq)]
enum BlocksKind {
    Root,
    Quote,
    Item,
}

enum SpanKind {
    Emphasis,
    Strong,
    Link(Option<LinkTarget>),
}

struct Builder {
    stack: Vec<Frame>,
    /// The closing tag that ends an inline `<script>` or `<style>`, while inside one.
    suppress: Option<&'static str>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            stack: vec![Frame::Blocks {
                kind: BlocksKind::Root,
                blocks: Vec::new(),
                pending: Vec::new(),
            }],
            suppress: None,
        }
    }

    fn block_depth(&self) -> usize {
        self.stack
            .iter()
            .filter(|f| {
                matches!(
                    f,
                    Frame::List { .. }
                        | Frame::Blocks {
                            kind: BlocksKind::Quote,
                            ..
                        }
                )
            })
            .count()
    }

    fn span_depth(&self) -> usize {
        self.stack
            .iter()
            .filter(|f| matches!(f, Frame::Span { .. }))
            .count()
    }

    fn event(&mut self, event: Event<'_>) {
        // Images and skipped containers absorb everything up to their end.
        match self.stack.last_mut() {
            Some(Frame::Image { alt, nested, .. }) => {
                match event {
                    Event::Start(_) => *nested += 1,
                    Event::End(_) if *nested > 0 => *nested -= 1,
                    Event::End(_) => self.close(),
                    Event::Text(t) | Event::Code(t) if self.suppress.is_none() => {
                        alt.push_str(&clean_text(&t))
                    }
                    Event::SoftBreak | Event::HardBreak => alt.push(' '),
                    _ => {}
                }
                return;
            }
            Some(Frame::Skip { nested }) => {
                match event {
                    Event::Start(_) => *nested += 1,
                    Event::End(_) if *nested > 0 => *nested -= 1,
                    Event::End(_) => self.close(),
                    _ => {}
                }
                return;
            }
            Some(Frame::Code(text)) => {
                match event {
                    Event::Text(t) => text.push_str(&t),
                    Event::End(_) => self.close(),
                    Event::Start(_) => self.stack.push(Frame::Transparent),
                    _ => {}
                }
                return;
            }
            _ => {}
        }
        match event {
            Event::Start(tag) => self.open(tag),
            Event::End(_) => self.close(),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                if self.suppress.is_none() {
                    self.push_inline(Inline::Text(clean_text(&t)));
                }
            }
            Event::InlineHtml(html) => self.inline_html(&html),
            Event::SoftBreak => {
                if self.suppress.is_none() {
                    self.push_inline(Inline::text(" "));
                }
            }
            Event::HardBreak => {
                if self.suppress.is_none() {
                    self.push_inline(Inline::LineBreak);
                }
            }
            Event::Rule => self.push_block(Block::Rule),
            Event::Html(_) | Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
    }

    fn open(&mut self, tag: Tag<'_>) {
        let frame = match tag {
            Tag::Paragraph => Frame::Text {
                heading: None,
                inlines: Vec::new(),
                after: Vec::new(),
            },
            Tag::Heading { level, .. } => Frame::Text {
                heading: Some(match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    _ => 3,
                }),
                inlines: Vec::new(),
                after: Vec::new(),
            },
            Tag::BlockQuote(_) if self.block_depth() < MAX_NESTING => Frame::Blocks {
                kind: BlocksKind::Quote,
                blocks: Vec::new(),
                pending: Vec::new(),
            },
            Tag::List(start) if self.block_depth() < MAX_NESTING => Frame::List {
                start,
                items: Vec::new(),
            },
            Tag::Item => Frame::Blocks {
                kind: BlocksKind::Item,
                blocks: Vec::new(),
                pending: Vec::new(),
            },
            Tag::CodeBlock(_) => Frame::Code(String::new()),
            Tag::HtmlBlock | Tag::MetadataBlock(_) => Frame::Skip { nested: 0 },
            Tag::Emphasis if self.span_depth() < MAX_NESTING => Frame::Span {
                kind: SpanKind::Emphasis,
                inlines: Vec::new(),
            },
            Tag::Strong if self.span_depth() < MAX_NESTING => Frame::Span {
                kind: SpanKind::Strong,
                inlines: Vec::new(),
            },
            Tag::Link { dest_url, .. } if self.span_depth() < MAX_NESTING => Frame::Span {
                kind: SpanKind::Link(link_target(&dest_url)),
                inlines: Vec::new(),
            },
            Tag::Image { dest_url, .. } => Frame::Image {
                target: image_target(&dest_url),
                alt: String::new(),
                nested: 0,
            },
            _ => Frame::Transparent,
        };
        self.stack.push(frame);
    }

    fn close(&mut self) {
        if self.stack.len() <= 1 {
            return; // Never close the root.
        }
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame {
            Frame::Text {
                heading,
                inlines,
                after,
            } => {
                self.suppress = None;
                let inlines = tidy(inlines);
                if has_text(&inlines) {
                    self.push_block(match heading {
                        Some(level) => Block::Heading { level, inlines },
                        None => Block::Paragraph(inlines),
                    });
                }
                for block in after {
                    self.push_block(block);
                }
            }
            Frame::Blocks {
                kind,
                mut blocks,
                pending,
            } => {
                self.suppress = None;
                flush(&mut blocks, pending);
                match kind {
                    BlocksKind::Quote if !blocks.is_empty() => {
                        self.push_block(Block::Quote(blocks))
                    }
                    BlocksKind::Item => {
                        if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                            items.push(blocks);
                        } else {
                            for block in blocks {
                                self.push_block(block);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Frame::List { start, items } => {
                if !items.is_empty() {
                    self.push_block(match start {
                        Some(start) => Block::OrderedList { start, items },
                        None => Block::BulletList(items),
                    });
                }
            }
            Frame::Span { kind, inlines } => match kind {
                SpanKind::Emphasis if !inlines.is_empty() => {
                    self.push_inline(Inline::Emphasis(inlines))
                }
                SpanKind::Strong if !inlines.is_empty() => {
                    self.push_inline(Inline::Strong(inlines))
                }
                SpanKind::Link(Some(target)) if has_text(&inlines) => {
                    self.push_inline(Inline::Link { target, inlines })
                }
                SpanKind::Link(_) => {
                    for inline in inlines {
                        self.push_inline(inline);
                    }
                }
                _ => {}
            },
            Frame::Image { target, alt, .. } => {
                let alt = alt.trim().to_owned();
                match target {
                    Some(image_id) => self.push_block(Block::Image { image_id, alt }),
                    None if !alt.is_empty() => {
                        self.push_block(Block::Paragraph(vec![Inline::Text(alt)]))
                    }
                    None => {}
                }
            }
            Frame::Code(text) => {
                let mut inlines = Vec::new();
                for (i, line) in text.trim_end_matches(['\n', '\r']).split('\n').enumerate() {
                    if i > 0 {
                        inlines.push(Inline::LineBreak);
                    }
                    inlines.push(Inline::Text(clean_text(line)));
                }
                let inlines = tidy(inlines);
                if has_text(&inlines) {
                    self.push_block(Block::Paragraph(inlines));
                }
            }
            Frame::Transparent | Frame::Skip { .. } => {}
        }
    }

    fn inline_html(&mut self, html: &str) {
        let lower = html.trim().to_ascii_lowercase();
        if let Some(closing) = self.suppress {
            if lower.starts_with(closing) {
                self.suppress = None;
            }
            return;
        }
        let opens = |name: &str| {
            lower
                .strip_prefix('<')
                .and_then(|r| r.strip_prefix(name))
                .is_some_and(|r| {
                    r.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
                })
        };
        if opens("script") {
            self.suppress = Some("</script");
        } else if opens("style") {
            self.suppress = Some("</style");
        } else if opens("br") {
            self.push_inline(Inline::LineBreak);
        }
    }

    /// Adds an inline to the innermost container that holds inlines.
    fn push_inline(&mut self, inline: Inline) {
        for frame in self.stack.iter_mut().rev() {
            let list = match frame {
                Frame::Text { inlines, .. } | Frame::Span { inlines, .. } => inlines,
                Frame::Blocks { pending, .. } => pending,
                _ => continue,
            };
            append(list, inline);
            return;
        }
    }

    /// Adds a block to the innermost container that holds blocks; inside a paragraph or
    /// heading, after it.
    fn push_block(&mut self, block: Block) {
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::Text { after, .. } => after.push(block),
                Frame::Blocks {
                    blocks, pending, ..
                } => {
                    flush(blocks, std::mem::take(pending));
                    blocks.push(block);
                }
                _ => continue,
            }
            return;
        }
    }

    fn finish(mut self) -> Document {
        while self.stack.len() > 1 {
            self.close();
        }
        match self.stack.pop() {
            Some(Frame::Blocks {
                mut blocks,
                pending,
                ..
            }) => {
                flush(&mut blocks, pending);
                Document { blocks }
            }
            _ => Document::default(),
        }
    }
}

/// Appends an inline, merging neighbouring texts.
fn append(list: &mut Vec<Inline>, inline: Inline) {
    if let Inline::Text(t) = &inline {
        if t.is_empty() {
            return;
        }
        if let Some(Inline::Text(last)) = list.last_mut() {
            last.push_str(t);
            return;
        }
    }
    list.push(inline);
}

/// Turns pending inlines into a paragraph, if they hold any text.
fn flush(blocks: &mut Vec<Block>, pending: Vec<Inline>) {
    let pending = tidy(pending);
    if has_text(&pending) {
        blocks.push(Block::Paragraph(pending));
    }
}

/// Trims whitespace and line breaks from both ends of a run of inlines.
fn tidy(mut inlines: Vec<Inline>) -> Vec<Inline> {
    loop {
        match inlines.first_mut() {
            Some(Inline::LineBreak) => {
                inlines.remove(0);
            }
            Some(Inline::Text(t)) => {
                let trimmed = t.trim_start();
                if trimmed.is_empty() {
                    inlines.remove(0);
                } else {
                    *t = trimmed.to_owned();
                    break;
                }
            }
            _ => break,
        }
    }
    loop {
        match inlines.last_mut() {
            Some(Inline::LineBreak) => {
                inlines.pop();
            }
            Some(Inline::Text(t)) => {
                let trimmed = t.trim_end();
                if trimmed.is_empty() {
                    inlines.pop();
                } else {
                    t.truncate(trimmed.len());
                    break;
                }
            }
            _ => break,
        }
    }
    inlines
}

/// True if the inlines hold any visible text.
fn has_text(inlines: &[Inline]) -> bool {
    inlines.iter().any(|i| match i {
        Inline::Text(t) => !t.trim().is_empty(),
        Inline::Emphasis(i) | Inline::Strong(i) | Inline::Link { inlines: i, .. } => has_text(i),
        Inline::LineBreak => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Inline {
        Inline::text(s)
    }

    fn para(inlines: Vec<Inline>) -> Block {
        Block::Paragraph(inlines)
    }

    #[test]
    fn headings_are_clamped_to_three() {
        let doc = parse("# Ett\n\n## Två\n\n### Tre\n\n#### Fyra\n\n###### Sex\n\n#\n");
        let levels: Vec<u8> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading { level, .. } => Some(*level),
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![1, 2, 3, 3, 3]);
    }

    #[test]
    fn tight_and_loose_list_items_both_hold_paragraphs() {
        let tight = parse("- a\n- b\n");
        let loose = parse("- a\n\n- b\n");
        let expected = Block::BulletList(vec![vec![para(vec![t("a")])], vec![para(vec![t("b")])]]);
        assert_eq!(tight.blocks, vec![expected.clone()]);
        assert_eq!(loose.blocks, vec![expected]);
    }

    #[test]
    fn soft_breaks_are_spaces_and_hard_breaks_line_breaks() {
        let doc = parse("ett\ntvå  \ntre");
        assert_eq!(
            doc.blocks,
            vec![para(vec![t("ett två"), Inline::LineBreak, t("tre")])]
        );
    }

    #[test]
    fn code_blocks_become_text_lines() {
        let doc = parse("```\nrad 1\nrad 2\n```\n\nkör `x`");
        assert_eq!(
            doc.blocks,
            vec![
                para(vec![t("rad 1"), Inline::LineBreak, t("rad 2")]),
                para(vec![t("kör x")]),
            ]
        );
    }

    #[test]
    fn an_image_inside_a_paragraph_follows_it() {
        let doc = parse("Före ![manschett](nara:image/cuff) efter");
        assert_eq!(
            doc.blocks,
            vec![
                para(vec![t("Före  efter")]),
                Block::Image {
                    image_id: ImageId::parse("cuff").expect("valid"),
                    alt: "manschett".into()
                }
            ]
        );
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let quotes = format!("{} djupt", ">".repeat(40));
        let doc = parse(&quotes);
        fn depth(blocks: &[Block]) -> usize {
            blocks
                .iter()
                .map(|b| match b {
                    Block::Quote(b) => 1 + depth(b),
                    _ => 0,
                })
                .max()
                .unwrap_or(0)
        }
        assert_eq!(depth(&doc.blocks), MAX_NESTING);
        assert_eq!(plain_text(&doc), "djupt");
        let stars = format!("{}x{}", "*".repeat(60), "*".repeat(60));
        assert_eq!(plain_text(&parse(&stars)), "x");
    }

    #[test]
    fn tables_and_footnotes_stay_text() {
        let doc = parse("| a | b |\n|---|---|\n| 1 | 2 |\n\nx[^1]\n\n[^1]: not\n\n~~y~~");
        let text = plain_text(&doc);
        assert!(text.contains("| a | b |"), "{text}");
        assert!(text.contains("~~y~~"), "{text}");
    }
}
