//! Every key binding, in one table that drives both dispatch and the `?` help screen
//! (k9s-style keys). Text-entry modes (`/` filter, `:` command) handle their own keys in
//! `app::update`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    Left,
    Right,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextView,
    PrevView,
    Filter,
    Back,
    Help,
    FaultsOnly,
    Refresh,
    Command,
    Open,
    /// Jump straight to view N (1-based, as in the tab bar).
    View(u8),
    /// Sort the table by the column with this letter; again to reverse.
    Sort(char),
}

/// A group of bindings in the help screen (k9s groups them the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    General,
    Navigation,
    View,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::General => "GENERAL",
            Group::Navigation => "NAVIGATION",
            Group::View => "VIEWS",
        }
    }
}

/// One binding: the keys, what they do, and how help shows them.
pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub action: Action,
    pub group: Group,
    pub label: &'static str,
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// The key table. `label` is what help prints for the keys.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    Binding { keys: &[(KeyCode::Char('?'), NONE)], action: Action::Help, group: Group::General, label: "?", help: "help (esc closes)" },
    Binding { keys: &[(KeyCode::Char('q'), NONE), (KeyCode::Char('c'), CTRL)], action: Action::Quit, group: Group::General, label: "q ctrl-c", help: "quit" },
    Binding { keys: &[(KeyCode::Char('r'), NONE)], action: Action::Refresh, group: Group::General, label: "r", help: "refresh now" },
    Binding { keys: &[(KeyCode::Char('f'), NONE)], action: Action::FaultsOnly, group: Group::General, label: "f", help: "show only faults (again: everything)" },
    Binding { keys: &[(KeyCode::Char('/'), NONE)], action: Action::Filter, group: Group::General, label: "/", help: "filter rows (text; /!text inverts)" },
    Binding { keys: &[(KeyCode::Esc, NONE)], action: Action::Back, group: Group::General, label: "esc", help: "clear the filter, close a window" },
    Binding { keys: &[(KeyCode::Char(':'), NONE)], action: Action::Command, group: Group::General, label: ":", help: "jump to a view (:routes, :sessions ...)" },
    Binding { keys: &[(KeyCode::Char('j'), NONE), (KeyCode::Down, NONE)], action: Action::Down, group: Group::Navigation, label: "j ↓", help: "down" },
    Binding { keys: &[(KeyCode::Char('k'), NONE), (KeyCode::Up, NONE)], action: Action::Up, group: Group::Navigation, label: "k ↑", help: "up" },
    Binding { keys: &[(KeyCode::Char('h'), NONE), (KeyCode::Left, NONE)], action: Action::Left, group: Group::Navigation, label: "h ←", help: "previous router panel" },
    Binding { keys: &[(KeyCode::Char('l'), NONE), (KeyCode::Right, NONE)], action: Action::Right, group: Group::Navigation, label: "l →", help: "next router panel" },
    Binding { keys: &[(KeyCode::Char('g'), NONE), (KeyCode::Home, NONE)], action: Action::Top, group: Group::Navigation, label: "g", help: "top" },
    Binding { keys: &[(KeyCode::Char('G'), NONE), (KeyCode::Char('G'), KeyModifiers::SHIFT), (KeyCode::End, NONE)], action: Action::Bottom, group: Group::Navigation, label: "G", help: "bottom" },
    Binding { keys: &[(KeyCode::Char('f'), CTRL), (KeyCode::PageDown, NONE)], action: Action::PageDown, group: Group::Navigation, label: "ctrl-f pgdn", help: "page down" },
    Binding { keys: &[(KeyCode::Char('b'), CTRL), (KeyCode::PageUp, NONE)], action: Action::PageUp, group: Group::Navigation, label: "ctrl-b pgup", help: "page up" },
    Binding { keys: &[(KeyCode::Tab, NONE)], action: Action::NextView, group: Group::View, label: "tab", help: "next view" },
    Binding { keys: &[(KeyCode::BackTab, NONE), (KeyCode::BackTab, KeyModifiers::SHIFT)], action: Action::PrevView, group: Group::View, label: "shift-tab", help: "previous view" },
    Binding { keys: &[(KeyCode::Char('1'), NONE)], action: Action::View(1), group: Group::View, label: "1-5", help: "views: routers, sessions, routes, services, events" },
    Binding { keys: &[(KeyCode::Char('2'), NONE)], action: Action::View(2), group: Group::View, label: "", help: "" },
    Binding { keys: &[(KeyCode::Char('3'), NONE)], action: Action::View(3), group: Group::View, label: "", help: "" },
    Binding { keys: &[(KeyCode::Char('4'), NONE)], action: Action::View(4), group: Group::View, label: "", help: "" },
    Binding { keys: &[(KeyCode::Char('5'), NONE)], action: Action::View(5), group: Group::View, label: "", help: "" },
    Binding { keys: &[(KeyCode::Enter, NONE), (KeyCode::Char('o'), NONE)], action: Action::Open, group: Group::View, label: "enter o", help: "routers: raw router output; services: why not advertised?" },
];

/// Help lines for the sort keys (they depend on the table's columns, see `app::SORT_KEYS`).
pub const SORT_HELP: (&str, &str) = (
    "shift-letter",
    "routes: sort by the column (P N A L C T H); again to reverse",
);

/// The action a key press asks for in normal mode, if any.
pub fn action(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let mods = key.modifiers - KeyModifiers::SHIFT;
    for b in BINDINGS {
        for &(code, m) in b.keys {
            if code == key.code && (m == key.modifiers || m - KeyModifiers::SHIFT == mods) {
                return Some(b.action);
            }
        }
    }
    match key.code {
        KeyCode::Char(c) if c.is_ascii_uppercase() && mods.is_empty() => Some(Action::Sort(c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn k9s_keys_map_to_their_actions() {
        assert_eq!(action(&key(KeyCode::Char('q'), NONE)), Some(Action::Quit));
        assert_eq!(action(&key(KeyCode::Char('c'), CTRL)), Some(Action::Quit));
        assert_eq!(action(&key(KeyCode::Char('c'), NONE)), None);
        assert_eq!(action(&key(KeyCode::Char('j'), NONE)), Some(Action::Down));
        assert_eq!(action(&key(KeyCode::Up, NONE)), Some(Action::Up));
        assert_eq!(
            action(&key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(action(&key(KeyCode::Char('G'), NONE)), Some(Action::Bottom));
        assert_eq!(
            action(&key(KeyCode::Char('P'), KeyModifiers::SHIFT)),
            Some(Action::Sort('P'))
        );
        assert_eq!(
            action(&key(KeyCode::Char('f'), CTRL)),
            Some(Action::PageDown)
        );
        assert_eq!(
            action(&key(KeyCode::Char('f'), NONE)),
            Some(Action::FaultsOnly)
        );
        assert_eq!(
            action(&key(KeyCode::Char(':'), NONE)),
            Some(Action::Command)
        );
        assert_eq!(
            action(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevView)
        );
    }

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            for k in b.keys {
                assert!(seen.insert(*k), "{k:?} bound twice");
            }
        }
    }
}
