//! Styles by meaning. Two themes: colour, and a real monochrome one for `NO_COLOR` (or
//! `--color never`) that carries every state with bold, underline and reverse video only.
//!
//! Colour never carries a state alone: every state also has a symbol or a word (see
//! [`Mark`]), so red versus green is never the only difference.

use ratatui::style::{Color, Modifier, Style};

/// The meaning of a piece of text, which the theme turns into a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Plain text.
    Text,
    /// Secondary text (ages, units, hints).
    Dim,
    /// Table headers and panel titles.
    Header,
    /// A healthy state.
    Ok,
    /// Degraded or not yet there.
    Warn,
    /// Broken.
    Fail,
    /// Key names in hints and help.
    Key,
    /// The selected row or panel.
    Selected,
    /// The active tab.
    ActiveTab,
    /// Borders of panels.
    Border,
    /// The border of the focused panel.
    FocusBorder,
}

/// The state marks drawn next to text, so no state rests on colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Warn,
    Fail,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Ok => "✓",
            Mark::Warn => "▲",
            Mark::Fail => "✗",
        }
    }

    pub fn role(self) -> Role {
        match self {
            Mark::Ok => Role::Ok,
            Mark::Warn => Role::Warn,
            Mark::Fail => Role::Fail,
        }
    }
}

/// Colour or monochrome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub const COLOR: Theme = Theme { color: true };
    pub const MONO: Theme = Theme { color: false };

    pub fn style(self, role: Role) -> Style {
        let s = Style::new();
        if self.color {
            match role {
                Role::Text => s,
                Role::Dim => s.fg(Color::DarkGray),
                Role::Header => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                Role::Ok => s.fg(Color::Green),
                Role::Warn => s.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                Role::Fail => s.fg(Color::Red).add_modifier(Modifier::BOLD),
                Role::Key => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                Role::Selected => s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                Role::ActiveTab => s
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                Role::Border => s.fg(Color::DarkGray),
                Role::FocusBorder => s.fg(Color::Cyan),
            }
        } else {
            // No colour at all: only modifiers, which NO_COLOR terminals keep.
            match role {
                Role::Text | Role::Ok | Role::Border => s,
                Role::Dim => s.add_modifier(Modifier::DIM),
                Role::Header => s.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                Role::Warn => s.add_modifier(Modifier::BOLD),
                Role::Fail => s.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                Role::Key => s.add_modifier(Modifier::BOLD),
                Role::Selected => s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                Role::ActiveTab => s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                Role::FocusBorder => s.add_modifier(Modifier::BOLD),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monochrome_theme_sets_no_colour_and_keeps_every_state_apart() {
        let roles = [
            Role::Text,
            Role::Dim,
            Role::Header,
            Role::Ok,
            Role::Warn,
            Role::Fail,
            Role::Key,
            Role::Selected,
            Role::ActiveTab,
            Role::Border,
            Role::FocusBorder,
        ];
        for r in roles {
            let s = Theme::MONO.style(r);
            assert_eq!((s.fg, s.bg), (None, None), "{r:?} has a colour");
        }
        let m = |r| Theme::MONO.style(r).add_modifier;
        assert_ne!(m(Role::Ok), m(Role::Warn));
        assert_ne!(m(Role::Warn), m(Role::Fail));
        assert!(m(Role::Selected).contains(Modifier::REVERSED));
    }

    #[test]
    fn marks_differ_by_symbol_not_only_by_colour() {
        let s = [Mark::Ok, Mark::Warn, Mark::Fail].map(Mark::symbol);
        assert!(s[0] != s[1] && s[1] != s[2] && s[0] != s[2]);
    }
}
