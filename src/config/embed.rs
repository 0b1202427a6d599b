//! Mapping positions inside an embedded text back to the file it came from.
//!
//! A MetalLB ConfigMap carries its configuration as a string (`data.config: |`). We parse that
//! string as YAML of its own, and every position we get is relative to it. [`OffsetMap`] turns
//! those positions into byte offsets of the ORIGINAL file, so a finding on line 3 of the block
//! scalar is reported on the file line where that text actually sits.

use std::ops::Range;

use super::yaml::{Node, Style, Value};

/// Maps byte offsets of an embedded text to byte offsets of the enclosing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetMap {
    /// The text is the file itself.
    Identity,
    /// A literal block scalar: inner line `i` starts at `lines[i].1` in the file.
    Lines(Vec<(usize, usize)>),
    /// Positions cannot be mapped exactly (folded or quoted scalars): point at the scalar.
    Collapsed(usize),
    /// The text starts at this offset of a larger text (inputs joined for cross-file checks).
    Shift(usize),
}

impl OffsetMap {
    pub fn map(&self, inner: usize) -> usize {
        match self {
            OffsetMap::Identity => inner,
            OffsetMap::Collapsed(at) => *at,
            OffsetMap::Shift(base) => base + inner,
            OffsetMap::Lines(lines) => {
                let i = match lines.binary_search_by_key(&inner, |&(start, _)| start) {
                    Ok(i) => i,
                    Err(i) => i.saturating_sub(1),
                };
                let (inner_start, outer_start) = lines[i];
                outer_start + (inner - inner_start)
            }
        }
    }

    pub fn map_span(&self, inner: &Range<usize>) -> Range<usize> {
        let start = self.map(inner.start);
        let end = self.map(inner.end).max(start);
        start..end
    }

    /// Whether positions are exact (false when every position collapses onto the scalar).
    pub fn is_exact(&self) -> bool {
        !matches!(self, OffsetMap::Collapsed(_))
    }
}

/// Build the map for a scalar node of `outer` text. Literal block scalars map line by line; we
/// verify every line against the file and fall back to pointing at the scalar if anything does
/// not line up, so a position is never wrong, at worst imprecise.
pub fn map_scalar(outer: &str, node: &Node) -> OffsetMap {
    let Value::Scalar { text, style } = &node.value else {
        return OffsetMap::Collapsed(node.span.start);
    };
    let fallback = OffsetMap::Collapsed(node.span.start);
    match style {
        Style::Literal => literal_lines(outer, node.span.start, text).unwrap_or(fallback),
        Style::Plain if !text.contains('\n') && outer.get(node.span.clone()) == Some(text) => {
            OffsetMap::Lines(vec![(0, node.span.start)])
        }
        _ => fallback,
    }
}

fn literal_lines(outer: &str, span_start: usize, inner: &str) -> Option<OffsetMap> {
    let (first_line, indent) = if outer.get(span_start..)?.starts_with('|') {
        // A parser that starts the span at the indicator: content is on the next lines, and
        // the first non-blank one sets the indentation.
        let first_line = span_start + outer[span_start..].find('\n')? + 1;
        let indent = outer[first_line..]
            .split('\n')
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())?;
        (first_line, indent)
    } else {
        // saphyr starts the span at the first content character, after the indentation and
        // after any leading blank lines of the content.
        let content_line = outer[..span_start].rfind('\n').map_or(0, |i| i + 1);
        let indent = span_start - content_line;
        let leading_blank = inner.len() - inner.trim_start_matches('\n').len();
        let mut first_line = content_line;
        for _ in 0..leading_blank {
            first_line = outer[..first_line.checked_sub(1)?]
                .rfind('\n')
                .map_or(0, |i| i + 1);
        }
        (first_line, indent)
    };
    let mut lines = Vec::new();
    let mut outer_line = first_line;
    let mut inner_start = 0;
    for inner_line in inner.split_inclusive('\n') {
        let content = inner_line.strip_suffix('\n').unwrap_or(inner_line);
        let rest = outer.get(outer_line..)?;
        let file_line = rest.split('\n').next()?;
        let file_line = file_line.strip_suffix('\r').unwrap_or(file_line);
        if content.is_empty() {
            lines.push((inner_start, outer_line + indent.min(file_line.len())));
        } else {
            if file_line.get(indent..)? != content {
                return None;
            }
            lines.push((inner_start, outer_line + indent));
        }
        inner_start += inner_line.len();
        outer_line += rest.find('\n').map_or(rest.len(), |i| i + 1);
    }
    if lines.is_empty() {
        lines.push((0, first_line));
    }
    Some(OffsetMap::Lines(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse_stream;

    #[test]
    fn literal_block_maps_each_line() {
        let outer = "data:\n  config: |\n    peers:\n    - my-asn: 1\n\n    x: 2\n";
        let doc = &parse_stream(outer).unwrap()[0];
        let scalar = doc.get("data").unwrap().get("config").unwrap();
        let inner = scalar.as_scalar().unwrap();
        let map = map_scalar(outer, scalar);
        assert!(map.is_exact());
        let at = inner.find("my-asn").unwrap();
        let o = map.map(at);
        assert_eq!(&outer[o..o + 6], "my-asn");
        let at = inner.find("x: 2").unwrap();
        let o = map.map(at);
        assert_eq!(&outer[o..o + 4], "x: 2");
    }

    #[test]
    fn quoted_scalar_collapses_onto_the_scalar() {
        let outer = "config: \"peers: []\\n\"\n";
        let doc = &parse_stream(outer).unwrap()[0];
        let scalar = doc.get("config").unwrap();
        let map = map_scalar(outer, scalar);
        assert_eq!(map, OffsetMap::Collapsed(8));
    }
}
