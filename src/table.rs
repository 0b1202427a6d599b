//! Plain-text tables for the terminal: a header row, then data rows, each column as wide as its
//! widest cell (header included), left- or right-aligned. Used by `lab status`, `bgp listen`,
//! the dry-run table of `validate`, and the status views.
//!
//! Pure: no I/O, no terminal queries, no colour. Widths count `char`s (not bytes), so a cell
//! with non-ASCII text lines up as long as each character takes one terminal column.
//!
//! ```
//! use metallbctl::table::Table;
//!
//! let mut t = Table::new(["NAME", "ROUTES"]).right(1);
//! t.row(["r1", "3"]);
//! t.row(["router-two", "12"]);
//! assert_eq!(t.render(), "NAME        ROUTES\nr1               3\nrouter-two      12\n");
//! ```

/// How a column's cells sit within its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Right,
}

/// A table: headers, alignment per column, rows of cells, and the layout options.
///
/// Rendering:
/// - every line starts with the indent, then the cells separated by the gap;
/// - a left-aligned cell is padded with spaces to its column's width, except in the last
///   column (nothing follows it); a right-aligned cell is always padded on the left;
/// - with [`Table::trim`] (the default), trailing whitespace is cut from each line;
/// - every line ends with `\n`. A row shorter than the header leaves its missing cells empty;
///   cells beyond the header's columns are ignored.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
    indent: String,
    gap: String,
    trim: bool,
}

impl Table {
    /// A table with these column headers, all left-aligned, no indent, two spaces between
    /// columns, trailing whitespace trimmed.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        Table {
            align: vec![Align::Left; headers.len()],
            headers,
            rows: Vec::new(),
            indent: String::new(),
            gap: "  ".into(),
            trim: true,
        }
    }

    /// Right-align column `col` (0-based); an index past the last column is ignored.
    #[must_use]
    pub fn right(mut self, col: usize) -> Self {
        if let Some(a) = self.align.get_mut(col) {
            *a = Align::Right;
        }
        self
    }

    /// The text between two columns (default: two spaces).
    #[must_use]
    pub fn gap(mut self, gap: impl Into<String>) -> Self {
        self.gap = gap.into();
        self
    }

    /// Text put before every line (default: none).
    #[must_use]
    pub fn indent(mut self, indent: impl Into<String>) -> Self {
        self.indent = indent.into();
        self
    }

    /// Whether to cut trailing whitespace from each line (default: yes). Without it a row
    /// whose last cell is empty keeps the gap and padding before it.
    #[must_use]
    pub fn trim(mut self, trim: bool) -> Self {
        self.trim = trim;
        self
    }

    /// Add a row.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Add rows.
    pub fn rows<R, I, S>(&mut self, rows: R) -> &mut Self
    where
        R: IntoIterator<Item = I>,
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for r in rows {
            self.row(r);
        }
        self
    }

    /// Whether the table has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Each column's width: its widest cell, header included, in `char`s.
    pub fn widths(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|c| {
                std::iter::once(&self.headers)
                    .chain(&self.rows)
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// The table as text, header first, one `\n`-terminated line per row.
    pub fn render(&self) -> String {
        let widths = self.widths();
        let mut out = String::new();
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            let start = out.len();
            out.push_str(&self.indent);
            for (c, w) in widths.iter().enumerate() {
                if c > 0 {
                    out.push_str(&self.gap);
                }
                let cell = r.get(c).map_or("", String::as_str);
                let pad = w.saturating_sub(cell.chars().count());
                let last = c + 1 == widths.len();
                match self.align[c] {
                    Align::Left => {
                        out.push_str(cell);
                        if !last {
                            out.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                    Align::Right => {
                        out.extend(std::iter::repeat_n(' ', pad));
                        out.push_str(cell);
                    }
                }
            }
            if self.trim {
                let kept = out[start..].trim_end().len();
                out.truncate(start + kept);
            }
            out.push('\n');
        }
        out
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut t = Table::new(["A", "LONG-HEADER", "C"]);
        t.row(["wide-cell", "x", "last"]);
        assert_eq!(
            t.render(),
            "A          LONG-HEADER  C\nwide-cell  x            last\n"
        );
    }

    #[test]
    fn right_alignment_pads_on_the_left_even_in_the_last_column() {
        let mut t = Table::new(["N", "COUNT"]).right(1);
        t.row(["a", "7"]).row(["b", "1234567"]);
        assert_eq!(t.render(), "N    COUNT\na        7\nb  1234567\n");
    }

    #[test]
    fn trimming_drops_trailing_blanks_and_untrimmed_keeps_them() {
        let mut t = Table::new(["A", "B", "C"]).indent("  ");
        t.row(["x", "y", ""]);
        assert_eq!(t.render(), "  A  B  C\n  x  y\n");
        assert_eq!(t.clone().trim(false).render(), "  A  B  C\n  x  y  \n");
    }

    #[test]
    fn gap_and_short_rows() {
        let mut t = Table::new(["A", "B"]).gap("   ");
        t.row(["only"]).row(["1", "2", "ignored"]);
        assert_eq!(t.render(), "A      B\nonly\n1      2\n");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let mut t = Table::new(["P", "Q"]);
        t.row(["pöl", "x"]);
        assert_eq!(t.widths(), vec![3, 1]);
        assert_eq!(t.render(), "P    Q\npöl  x\n");
    }

    #[test]
    fn a_table_without_rows_is_its_header() {
        let t = Table::new(["PEER", "PREFIX"]);
        assert!(t.is_empty());
        assert_eq!(t.to_string(), "PEER  PREFIX\n");
    }
}
