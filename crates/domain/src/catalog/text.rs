//! Text as the channels take it: shop descriptions arrive as HTML, channels cap lengths.

/// Tags after which the text continues on a new line.
const LINE_BREAKING_TAGS: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// Readable plain text from a shop's HTML description: tags removed (paragraphs, list items
/// and line breaks become new lines; scripts and styles disappear), common entities decoded,
/// spaces collapsed and blank lines dropped.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                out.push_str(rest);
                rest = "";
                break;
            };
            let name = tag_name(&rest[1..end]);
            rest = &rest[end + 1..];
            if name == "script" || name == "style" {
                let closing = format!("</{name}");
                rest = match rest.to_ascii_lowercase().find(&closing) {
                    Some(close) => rest[close..]
                        .find('>')
                        .map_or("", |gt| &rest[close + gt + 1..]),
                    None => "",
                };
            } else if LINE_BREAKING_TAGS.contains(&name.as_str()) {
                out.push('\n');
            }
        } else {
            match rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
                let decoded = decode_entity(&rest[1..semi])?;
                Some((decoded, semi))
            }) {
                Some((decoded, semi)) => {
                    out.push(decoded);
                    rest = &rest[semi + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    tidy_lines(&out)
}

/// `p` for `<p class="x">`, `/p` and `br/`.
fn tag_name(inside: &str) -> String {
    inside
        .trim_start_matches('/')
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        _ => return None,
    })
}

fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// At most `max` characters of `text`, cut at a character boundary.
pub fn truncate_chars(text: &str, max: usize) -> &str {
    // A text of at most `max` bytes has at most `max` characters: most texts stop here.
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_descriptions_become_plain_text() {
        assert_eq!(
            plain_text(
                "<p>Soft <strong>cotton</strong>&nbsp;tee.</p>\n<ul><li>Fits &amp; lasts</li>\
                 <li>5&#8211;7 days</li></ul><script>alert(1)</script><p>Wash  at 30&deg;</p>"
            ),
            "Soft cotton tee.\nFits & lasts\n5–7 days\nWash at 30°"
        );
        assert_eq!(plain_text("a<br/>b<br />c"), "a\nb\nc");
        assert_eq!(plain_text("1 < 2 & 3 &bogus; x"), "1 < 2 & 3 &bogus; x");
        assert_eq!(plain_text("<STYLE>p{}</style>Hi &#x41;"), "Hi A");
        assert_eq!(plain_text(""), "");
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("hé", 5), "hé");
        assert_eq!(truncate_chars("abc", 0), "");
    }
}
