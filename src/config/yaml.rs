//! A YAML tree that remembers where every node came from.
//!
//! `serde_yaml` forgets positions, and a linter is only as good as the line it points at, so we
//! build our own small tree from saphyr-parser's events. Spans are byte ranges in the text that
//! was parsed. Aliases are expanded (with a budget, so a "billion laughs" input is an error, not
//! an out-of-memory), and nesting depth is capped so no input can overflow the stack.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Deepest nesting we accept. MetalLB configs are four levels deep; 128 leaves room for any
/// Kubernetes object while keeping recursion in later passes safe.
const MAX_DEPTH: usize = 128;
/// Most nodes (after alias expansion) one stream may produce.
const MAX_NODES: usize = 5_000_000;

/// How a scalar was written. It matters for type checks: `"64500"` is a string, `64500` is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { text: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Byte range of the node in the parsed text.
    pub span: Range<usize>,
}

/// A YAML syntax error at a byte offset of the parsed text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is YAML's null (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, style: Style::Plain }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under a string key of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A short name for the node's kind, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parse every document of a YAML stream.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, YamlError> {
    Builder::new(text).run()
}

/// Work in progress while events arrive: an open sequence or mapping.
enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    /// Char index -> byte offset, only built for non-ASCII input.
    char_to_byte: Option<Vec<usize>>,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    documents: Vec<Node>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        let char_to_byte = (!text.is_ascii()).then(|| {
            let mut map: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            map.push(text.len());
            map
        });
        Builder {
            text,
            char_to_byte,
            anchors: HashMap::new(),
            stack: Vec::new(),
            documents: Vec::new(),
            nodes: 0,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_to_byte {
            None => char_index.min(self.text.len()),
            Some(map) => map.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn span(&self, span: &Span) -> Range<usize> {
        self.byte(span.start.index())..self.byte(span.end.index())
    }

    fn run(mut self) -> Result<Vec<Node>, YamlError> {
        let parser = Parser::new_from_str(self.text);
        for event in parser {
            let (event, span) = event.map_err(|e| YamlError {
                message: e.info().to_string(),
                offset: self.byte(e.marker().index()),
            })?;
            self.event(event, &span)?;
        }
        Ok(self.documents)
    }

    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), YamlError> {
        let range = self.span(span);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let node = Node {
                    value: Value::Scalar {
                        text: text_of(text),
                        style: style_of(style),
                    },
                    span: range,
                };
                self.complete(node, anchor)?;
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.error("alias refers to an unknown anchor", range.start));
                };
                self.nodes += count_nodes(&node);
                self.complete(node, 0)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.open(range.start)?;
                self.stack.push(Frame::Seq {
                    start: range.start,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.open(range.start)?;
                self.stack.push(Frame::Map {
                    start: range.start,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    start,
                    anchor,
                    items,
                }) = self.stack.pop()
                {
                    let end = items.last().map_or(range.end, |n| n.span.end.max(start));
                    let node = Node {
                        value: Value::Seq(items),
                        span: start..end.max(start),
                    };
                    self.complete(node, anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    start,
                    anchor,
                    entries,
                    ..
                }) = self.stack.pop()
                {
                    let end = entries.last().map_or(range.end, |(_, v)| v.span.end);
                    let node = Node {
                        value: Value::Map(entries),
                        span: start..end.max(start),
                    };
                    self.complete(node, anchor)?;
                }
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
        Ok(())
    }

    fn open(&self, offset: usize) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                &format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
                offset,
            ));
        }
        Ok(())
    }

    fn error(&self, message: &str, offset: usize) -> YamlError {
        YamlError {
            message: message.to_string(),
            offset,
        }
    }

    /// A node is finished: remember its anchor and attach it to its parent (or the stream).
    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.error(
                "document too large after expanding aliases",
                node.span.start,
            ));
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => todo.extend(items),
            Value::Map(entries) => todo.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    count
}

fn text_of(text: Cow<'_, str>) -> String {
    text.into_owned()
}

fn style_of(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values() {
        let text = "a: 1\nb:\n  - x\n  - 'y'\n";
        let docs = parse_stream(text).unwrap();
        let doc = &docs[0];
        let b = doc.get("b").unwrap().as_seq().unwrap();
        assert_eq!(&text[b[0].span.clone()], "x");
        assert_eq!(&text[b[1].span.clone()], "'y'");
        assert_eq!(
            b[1].value,
            Value::Scalar {
                text: "y".into(),
                style: Style::Quoted
            }
        );
    }

    #[test]
    fn several_documents() {
        let docs = parse_stream("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn syntax_error_has_an_offset() {
        let err = parse_stream("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.offset > 0, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(parse_stream(&text).is_err());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_stream(&text).is_err());
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "é: ü\nk: v\n";
        let docs = parse_stream(text).unwrap();
        let (k, v) = docs[0].entry("k").unwrap();
        assert_eq!(&text[k.span.clone()], "k");
        assert_eq!(&text[v.span.clone()], "v");
    }
}
