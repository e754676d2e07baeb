//! The small Markdown dialect notices are written in (the subset DingTalk renders:
//! headings, paragraphs, `**bold**`, `- ` lists, `[text](url)` links), turned into
//! simple HTML for the email's HTML part. Everything else stays literal text, and all
//! text is escaped, so a job name or an engine message can never inject markup.

/// Renders `markdown` as an HTML fragment.
pub fn to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        let line = line.trim_end();
        if let Some(item) = list_item(line) {
            flush_paragraph(&mut paragraph, &mut out);
            list.push(item);
            continue;
        }
        flush_list(&mut list, &mut out);
        if line.trim().is_empty() {
            flush_paragraph(&mut paragraph, &mut out);
        } else if let Some((level, text)) = heading(line) {
            flush_paragraph(&mut paragraph, &mut out);
            out.push_str(&format!("<h{level}>"));
            inline(text, &mut out);
            out.push_str(&format!("</h{level}>\n"));
        } else {
            paragraph.push(line.trim_start());
        }
    }
    flush_list(&mut list, &mut out);
    flush_paragraph(&mut paragraph, &mut out);
    out
}

/// A whole HTML document around [`to_html`], as mail clients expect.
pub fn to_html_document(title: &str, markdown: &str) -> String {
    let mut escaped_title = String::new();
    escape_into(title, &mut escaped_title);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{escaped_title}</title></head>\n<body>\n{}</body></html>\n",
        to_html(markdown)
    )
}

fn list_item(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("* "))
        .map(str::trim)
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if (1..=6).contains(&hashes) {
        if let Some(text) = line[hashes..].strip_prefix(' ') {
            return Some((hashes, text.trim()));
        }
    }
    None
}

fn flush_paragraph(lines: &mut Vec<&str>, out: &mut String) {
    if lines.is_empty() {
        return;
    }
    out.push_str("<p>");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            // Notices are line-oriented (one fact per line), so a single newline is
            // kept as a break rather than folded into a space as Markdown would.
            out.push_str("<br>\n");
        }
        inline(line, out);
    }
    out.push_str("</p>\n");
    lines.clear();
}

fn flush_list(items: &mut Vec<&str>, out: &mut String) {
    if items.is_empty() {
        return;
    }
    out.push_str("<ul>\n");
    for item in items.iter() {
        out.push_str("<li>");
        inline(item, out);
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    items.clear();
}

fn inline(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**") {
            if let Some(end) = after.find("**").filter(|end| *end > 0) {
                out.push_str("<strong>");
                inline(&after[..end], out);
                out.push_str("</strong>");
                rest = &after[end + 2..];
                continue;
            }
        }
        if c == '[' {
            if let Some((label, url, tail)) = link(rest) {
                if safe_url(url) {
                    out.push_str("<a href=\"");
                    escape_into(url, out);
                    out.push_str("\">");
                    inline(label, out);
                    out.push_str("</a>");
                } else {
                    // A javascript: or data: URL is dropped; the label still reads.
                    inline(label, out);
                }
                rest = tail;
                continue;
            }
        }
        escape_into(&rest[..c.len_utf8()], out);
        rest = &rest[c.len_utf8()..];
    }
}

/// `[label](url)` at the start of `text`: label, url and what follows.
fn link(text: &str) -> Option<(&str, &str, &str)> {
    let body = text.strip_prefix('[')?;
    let close = body.find("](")?;
    let label = &body[..close];
    if label.is_empty() || label.contains('[') {
        return None;
    }
    let after = &body[close + 2..];
    let end = after.find(')')?;
    let url = after[..end].trim();
    if url.is_empty() || url.contains(char::is_whitespace) {
        return None;
    }
    Some((label, url, &after[end + 1..]))
}

fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_bold_and_links() {
        let md = "### Job failed\n\n**orders-etl** stopped.\nRestarts: 3\n\n- one\n- [two](https://example.com/a?b=1&c=2)\n\nbye";
        assert_eq!(
            to_html(md),
            "<h3>Job failed</h3>\n\
             <p><strong>orders-etl</strong> stopped.<br>\nRestarts: 3</p>\n\
             <ul>\n<li>one</li>\n<li><a href=\"https://example.com/a?b=1&amp;c=2\">two</a></li>\n</ul>\n\
             <p>bye</p>\n"
        );
    }

    #[test]
    fn a_list_right_after_a_paragraph_closes_it() {
        assert_eq!(
            to_html("Jobs:\n- a\n- b\nend"),
            "<p>Jobs:</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>end</p>\n"
        );
    }

    #[test]
    fn markup_is_escaped_everywhere() {
        let html = to_html("<script>alert('x')</script> & **<b>** [<i>](https://e.com/\"x)");
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; <strong>&lt;b&gt;</strong> \
             <a href=\"https://e.com/&quot;x\">&lt;i&gt;</a></p>\n"
        );
    }

    #[test]
    fn unsafe_links_keep_only_their_label() {
        assert_eq!(to_html("[click](javascript:alert(1))"), "<p>click)</p>\n");
        assert_eq!(
            to_html("[mail](mailto:a@b.c)"),
            "<p><a href=\"mailto:a@b.c\">mail</a></p>\n"
        );
    }

    #[test]
    fn unmatched_markers_stay_literal() {
        assert_eq!(to_html("a ** b [c]( d"), "<p>a ** b [c]( d</p>\n");
        assert_eq!(to_html("#nohash"), "<p>#nohash</p>\n");
        assert_eq!(to_html("**"), "<p>**</p>\n");
    }

    #[test]
    fn document_escapes_its_title() {
        let doc = to_html_document("a<b", "x");
        assert!(doc.contains("<title>a&lt;b</title>"));
        assert!(doc.contains("<p>x</p>"));
    }
}
