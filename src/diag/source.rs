//! Source files and position arithmetic: byte offsets to 1-based line and column.

use std::collections::BTreeMap;
use std::ops::Range;

use super::Location;

/// A file's text with a line index, so positions can be turned into lines and columns and
/// renderers can show the offending line.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in chars) of a byte offset; offsets past the end clamp to it.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line_index];
        let column = self.text[start..offset].chars().count() + 1;
        (line_index + 1, column)
    }

    /// Byte offset of a 1-based line and 0-based char column.
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line_text = self.line_text_at(start);
        let within = line_text
            .char_indices()
            .nth(char_col)
            .map(|(i, _)| i)
            .unwrap_or(line_text.len());
        start + within
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: usize) -> &str {
        match self.line_starts.get(line.saturating_sub(1)) {
            Some(&start) => self.line_text_at(start),
            None => "",
        }
    }

    fn line_text_at(&self, start: usize) -> &str {
        let rest = &self.text[start..];
        let end = rest.find('\n').unwrap_or(rest.len());
        rest[..end].strip_suffix('\r').unwrap_or(&rest[..end])
    }

    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// A [`Location`] for a byte range of this file.
    pub fn location(&self, span: Range<usize>) -> Location {
        let (line, column) = self.line_col(span.start);
        let (end_line, end_column) = self.line_col(span.end.max(span.start));
        Location {
            file: self.name.clone(),
            span,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// All inputs of one run, by name, so renderers can show snippets.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: BTreeMap<String, SourceFile>,
}

impl Sources {
    pub fn insert(&mut self, file: SourceFile) {
        self.files.insert(file.name.clone(), file);
    }

    pub fn get(&self, name: &str) -> Option<&SourceFile> {
        self.files.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let f = SourceFile::new("a.yaml", "ab\nçd: x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes: the 'd' after it is column 2.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.offset_of(2, 1), 5);
        assert_eq!(f.line(2), "çd: x");
        assert_eq!(f.line_col(999), (3, 1));
    }
}
