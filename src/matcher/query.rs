//! The query language: a lexer and a recursive-descent parser producing an [`Ast`].
//!
//! Grammar, loosest binding first (`NOT` binds tighter than `AND`, which binds tighter than `OR`):
//!
//! ```text
//! or      := and ("OR" and)*
//! and     := unary (["AND"] unary)*        two terms side by side mean AND
//! unary   := "NOT" unary | near
//! near    := primary ("NEAR" | "NEAR/n") primary ...
//! primary := FIELD ":" primary | "(" or ")" | "\"phrase\"" | word | word*
//! ```
//!
//! Columns in errors are 1-based character positions in the query text.

use std::fmt;

/// The default distance of a bare `NEAR`.
pub const DEFAULT_NEAR: u32 = 10;
/// The fewest characters a wildcard needs before its `*`.
pub const MIN_PREFIX: usize = 3;

/// The fields a term can be scoped to, in the order of `Field::ALL` (per-field tables are indexed
/// by `field as usize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Body,
    Author,
    Category,
    Feed,
    /// The text extracted from the story's article page.
    Article,
}

impl Field {
    pub const ALL: [Field; 6] =
        [Field::Title, Field::Body, Field::Author, Field::Category, Field::Feed, Field::Article];

    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Body => "body",
            Field::Author => "author",
            Field::Category => "category",
            Field::Feed => "feed",
            Field::Article => "article",
        }
    }

    /// This field's bit in a field set.
    pub fn mask(self) -> u8 {
        1 << (self as u8)
    }

    /// The fields a term written with this scope searches: `body:` covers the feed's own text
    /// and the article fetched for it, `article:` the article alone.
    pub fn scope(self) -> u8 {
        match self {
            Field::Body => Field::Body.mask() | Field::Article.mask(),
            f => f.mask(),
        }
    }
}

/// How a term's text is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermKind {
    /// A whole word or a run of consecutive words.
    Exact,
    /// A word beginning with the text (`sanction*`).
    Prefix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as written, without quotes or `*`.
    pub text: String,
    pub kind: TermKind,
    /// Whether it was written in quotes.
    pub quoted: bool,
    pub column: usize,
}

impl Term {
    /// The term as the query writes it, wildcard included (`sanction*`), as reports show it.
    pub fn written(&self) -> String {
        match self.kind {
            TermKind::Prefix => format!("{}*", self.text),
            TermKind::Exact => self.text.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    Term(Term),
    Scope(Field, Box<Ast>),
    Not(Box<Ast>),
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Near(Box<Ast>, Box<Ast>, u32),
}

/// A syntax error with the column it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (column {})", self.message, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Near(u32),
    Scope(Field),
    Word(String),
    Phrase(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    column: usize,
}

fn err<T>(message: impl Into<String>, column: usize) -> Result<T, SyntaxError> {
    Err(SyntaxError { message: message.into(), column })
}

fn lex(query: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::Open
            }
            ')' => {
                i += 1;
                Tok::Close
            }
            '"' | '“' | '”' => {
                let close = chars[i + 1..].iter().position(|&q| matches!(q, '"' | '“' | '”'));
                let Some(len) = close else { return err("unclosed quote", column) };
                let text: String = chars[i + 1..i + 1 + len].iter().collect();
                i += len + 2;
                Tok::Phrase(text)
            }
            _ => match scope_prefix(&chars[i..], column)? {
                Some((field, len)) => {
                    i += len;
                    Tok::Scope(field)
                }
                None => {
                    let len = word_len(&chars[i..]);
                    let word: String = chars[i..i + len].iter().collect();
                    i += len;
                    word_token(word, column)?
                }
            },
        };
        out.push(Token { tok, column });
    }
    Ok(out)
}

/// The length of the bare word at the start of `chars`.
fn word_len(chars: &[char]) -> usize {
    chars.iter().position(|&q| q.is_whitespace() || matches!(q, '(' | ')' | '"' | '“' | '”')).unwrap_or(chars.len())
}

/// A field scope at the start of `chars` (`title:` and what follows), with its length.
///
/// Field names match in any case (`Title:`), as a user writing one means the field whatever
/// the case. Another word of letters with a colon is text (`covid:19` finds "covid 19"),
/// unless it must be a mistyped scope: a name a typo away from a field (`titel:treaty`), or
/// one directly before a bracket or a quote (`headline:(a OR b)`), which as text would drop
/// what the scope was meant to hold.
fn scope_prefix(chars: &[char], column: usize) -> Result<Option<(Field, usize)>, SyntaxError> {
    let name_len = chars.iter().position(|c| !c.is_ascii_alphabetic()).unwrap_or(chars.len());
    if name_len == 0 || chars.get(name_len) != Some(&':') {
        return Ok(None);
    }
    let name: String = chars[..name_len].iter().collect();
    if let Some(field) = Field::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(&name)) {
        return Ok(Some((field, name_len + 1)));
    }
    let near = near_field(&name);
    match chars.get(name_len + 1) {
        Some(&c) if matches!(c, '(' | '"' | '“' | '”') || (near.is_some() && c.is_alphanumeric()) => {
            let word: String = chars[..word_len(chars)].iter().collect();
            err(unknown_field(&name, &word, near), column)
        }
        _ => Ok(None),
    }
}

/// The field `name` is a typo of (at most two edits, for names of four letters or more).
fn near_field(name: &str) -> Option<Field> {
    let name = name.to_ascii_lowercase();
    let edits = |f: &Field| strsim::damerau_levenshtein(&name, f.name());
    (name.len() >= 4).then(|| Field::ALL.into_iter().filter(|f| edits(f) <= 2).min_by_key(edits)).flatten()
}

/// The error for `name:` where `name` is no field; `word` is the bare word it begins.
fn unknown_field(name: &str, word: &str, near: Option<Field>) -> String {
    let fields: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    let guess = near.map_or(String::new(), |f| format!(" (did you mean {}?)", f.name()));
    let text = if word.len() > name.len() + 1 { format!("\"{word}\"") } else { "text with a colon".into() };
    format!(
        "unknown field {name:?}{guess}: fields are {}; to match {text} as written, put it in quotes",
        fields.join(", ")
    )
}

/// The operators, which count only in capitals; a bare word that is one in another case is
/// almost always meant as one, and as a word it would only ever match the word itself.
const OPERATORS: [&str; 4] = ["AND", "OR", "NOT", "NEAR"];

/// The error for `word`, an operator written in lower or mixed case (`or`, `Near/5`).
fn operator_in_lower_case(word: &str) -> Option<String> {
    let upper = word.to_ascii_uppercase();
    let op = OPERATORS.into_iter().find(|op| {
        upper == *op || (*op == "NEAR" && upper.strip_prefix("NEAR/").is_some_and(|n| n.parse::<u32>().is_ok()))
    })?;
    (word != upper).then(|| {
        let verb = match op {
            "NOT" => "to exclude a term",
            "NEAR" => "to find terms close together",
            _ => "to combine terms",
        };
        format!("{word:?} is not an operator: write {upper} in capitals {verb}; quote \"{word}\" to search the word")
    })
}

fn word_token(word: String, column: usize) -> Result<Tok, SyntaxError> {
    if let Some(message) = operator_in_lower_case(&word) {
        return err(message, column);
    }
    Ok(match word.as_str() {
        "AND" => Tok::And,
        "OR" => Tok::Or,
        "NOT" => Tok::Not,
        "NEAR" => Tok::Near(DEFAULT_NEAR),
        _ => {
            if let Some(n) = word.strip_prefix("NEAR/") {
                match n.parse::<u32>() {
                    Ok(n) if n >= 1 => return Ok(Tok::Near(n)),
                    _ => return err(format!("NEAR/n needs a whole number of words of 1 or more, not {n:?}"), column),
                }
            }
            Tok::Word(word)
        }
    })
}

/// Parses a query into its syntax tree.
pub fn parse(query: &str) -> Result<Ast, SyntaxError> {
    let tokens = lex(query)?;
    if tokens.is_empty() {
        return err("the query is empty", 1);
    }
    let end = query.chars().count() + 1;
    let mut p = Parser { tokens, pos: 0, end, depth: 0 };
    let ast = p.or()?;
    match p.peek() {
        None => Ok(ast),
        Some(Token { tok: Tok::Close, column }) => err("unexpected ')' without a matching '('", *column),
        Some(t) => err("unexpected token", t.column),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Column just past the end of the query, for errors at the end.
    end: usize,
    /// Brackets, NOTs and field scopes open around the current token.
    depth: usize,
}

/// How deeply a query may nest: far beyond any real watch, and far below what would exhaust
/// the stack (a query of 7,000 nested brackets did, found by reading after fuzzing).
pub const MAX_DEPTH: usize = 100;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.column)
    }

    /// Runs `f` one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested(
        &mut self,
        column: usize,
        f: impl FnOnce(&mut Self) -> Result<Ast, SyntaxError>,
    ) -> Result<Ast, SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return err(format!("the query nests more than {MAX_DEPTH} levels deep"), column);
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn or(&mut self) -> Result<Ast, SyntaxError> {
        let mut parts = vec![self.and()?];
        while let Some(Token { tok: Tok::Or, column }) = self.peek().cloned() {
            self.pos += 1;
            parts.push(self.operand("OR", column, Self::and)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Ast::Or(parts) })
    }

    fn and(&mut self) -> Result<Ast, SyntaxError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek().cloned() {
                Some(Token { tok: Tok::And, column }) => {
                    self.pos += 1;
                    parts.push(self.operand("AND", column, Self::unary)?);
                }
                Some(Token { tok: Tok::Open | Tok::Not | Tok::Scope(_) | Tok::Word(_) | Tok::Phrase(_), .. }) => {
                    parts.push(self.unary()?);
                }
                _ => break,
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Ast::And(parts) })
    }

    /// Parses the operand after an operator, turning "nothing there" into a precise error.
    fn operand(
        &mut self,
        op: &str,
        column: usize,
        f: fn(&mut Self) -> Result<Ast, SyntaxError>,
    ) -> Result<Ast, SyntaxError> {
        match self.peek() {
            None | Some(Token { tok: Tok::Close | Tok::And | Tok::Or, .. }) => {
                let at = self.here();
                err(format!("expected a term after {op}"), if self.peek().is_none() { column } else { at })
            }
            _ => f(self),
        }
    }

    fn unary(&mut self) -> Result<Ast, SyntaxError> {
        if let Some(Token { tok: Tok::Not, column }) = self.peek().cloned() {
            self.pos += 1;
            let inner = self.nested(column, |p| p.operand("NOT", column, Self::unary))?;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.near()
    }

    fn near(&mut self) -> Result<Ast, SyntaxError> {
        let mut left = self.primary()?;
        while let Some(Token { tok: Tok::Near(n), column }) = self.peek().cloned() {
            self.pos += 1;
            let right = self.operand("NEAR", column, Self::primary)?;
            for side in [&left, &right] {
                if !is_near_operand(side) {
                    return err("NEAR takes a word, phrase, wildcard or entity on each side", column);
                }
            }
            left = Ast::Near(Box::new(left), Box::new(right), n);
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Ast, SyntaxError> {
        let Some(t) = self.next() else {
            return err("expected a term", self.end);
        };
        match t.tok {
            Tok::Open => {
                let inner = self.nested(t.column, Self::or)?;
                match self.next() {
                    Some(Token { tok: Tok::Close, .. }) => Ok(inner),
                    _ => err("unclosed '('", t.column),
                }
            }
            Tok::Scope(field) => {
                let scope = format!("{}:", field.name());
                let inner = self.nested(t.column, |p| p.operand(&scope, t.column, Self::primary))?;
                Ok(Ast::Scope(field, Box::new(inner)))
            }
            Tok::Phrase(text) => term(text, true, t.column),
            Tok::Word(text) => term(text, false, t.column),
            Tok::Close => err("unexpected ')' without a matching '('", t.column),
            Tok::And | Tok::Or => err("expected a term, found an operator", t.column),
            Tok::Not => err("NOT cannot stand here", t.column),
            Tok::Near(_) => err("NEAR needs a term on its left", t.column),
        }
    }
}

fn is_near_operand(ast: &Ast) -> bool {
    match ast {
        Ast::Term(_) => true,
        Ast::Scope(_, inner) => matches!(**inner, Ast::Term(_)),
        _ => false,
    }
}

fn term(text: String, quoted: bool, column: usize) -> Result<Ast, SyntaxError> {
    let (text, kind) = match text.strip_suffix('*') {
        Some(stem) => {
            if stem.contains('*') || stem.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PREFIX {
                return err(format!("a wildcard needs at least {MIN_PREFIX} letters before the *"), column);
            }
            (stem.to_string(), TermKind::Prefix)
        }
        None => (text, TermKind::Exact),
    };
    if let (false, Some(star)) = (quoted, text.find('*')) {
        let stem = &text[..star];
        return err(
            format!(
                "{text:?} never matches: a * stands only at the end of a word, as in {stem}*; quote it to search the text"
            ),
            column,
        );
    }
    if crate::text::fold(&text).text.is_empty() {
        let what = if quoted { "phrase" } else { "term" };
        return err(format!("the {what} {text:?} has no letters or digits to match"), column);
    }
    Ok(Ast::Term(Term { text, kind, quoted, column }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, column: usize) -> Ast {
        Ast::Term(Term { text: text.into(), kind: TermKind::Exact, quoted: false, column })
    }

    /// Deep nesting once exhausted the stack and killed wirewatch at config load.
    #[test]
    fn nesting_is_limited_with_an_error_not_a_crash() {
        let deep = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        let e = parse(&deep(10_000)).unwrap_err();
        assert_eq!((e.message.as_str(), e.column), ("the query nests more than 100 levels deep", MAX_DEPTH + 1));
        assert!(parse(&"NOT ".repeat(10_000)).is_err());
        assert!(parse(&format!("{}x", "title:".repeat(10_000))).is_err());
    }

    #[test]
    fn not_binds_tighter_than_and_tighter_than_or() {
        let ast = parse("a OR b c NOT d").unwrap();
        let expected =
            Ast::Or(vec![word("a", 1), Ast::And(vec![word("b", 6), word("c", 8), Ast::Not(Box::new(word("d", 14)))])]);
        assert_eq!(ast, expected);
    }

    #[test]
    fn errors_name_the_column() {
        assert_eq!(parse("sanctions AND NOT").unwrap_err().to_string(), "expected a term after NOT (column 15)");
        assert_eq!(parse("(a OR b").unwrap_err().to_string(), "unclosed '(' (column 1)");
        assert_eq!(parse("a)").unwrap_err().column, 2);
        assert_eq!(parse("\"open").unwrap_err().to_string(), "unclosed quote (column 1)");
        assert_eq!(parse("ab*").unwrap_err().column, 1);
        assert_eq!(parse("").unwrap_err().to_string(), "the query is empty (column 1)");
    }

    /// `titel:treaty` was accepted and searched for as the text "titel treaty", which no
    /// story holds.
    #[test]
    fn a_mistyped_field_scope_is_an_error_naming_the_fields() {
        let e = parse("treaty OR headline:(accord OR pact)").unwrap_err();
        assert_eq!(e.column, 11);
        let fields = "fields are title, body, author, category, feed, article";
        assert_eq!(
            e.message,
            format!("unknown field \"headline\": {fields}; to match text with a colon as written, put it in quotes")
        );
        let e = parse("titel:treaty").unwrap_err();
        let expected = format!(
            "unknown field \"titel\" (did you mean title?): {fields}; to match \"titel:treaty\" as written, put it in quotes"
        );
        assert_eq!((e.message, e.column), (expected, 1));
        for bad in ["Tittle:treaty", "catgory:x", "autor:x", "headline:\"a b\"", "bdoy:x"] {
            assert!(parse(bad).unwrap_err().message.starts_with("unknown field"), "{bad}");
        }
    }

    #[test]
    fn field_names_match_in_any_case_and_other_colons_are_text() {
        let scoped = |f| Ast::Scope(f, Box::new(word("treaty", 7)));
        assert_eq!(parse("Title:treaty").unwrap(), scoped(Field::Title));
        assert_eq!(parse("TITLE:treaty").unwrap(), scoped(Field::Title));
        let texts = [
            "\"re:publica\"",
            "title:\"re:publica\"",
            "re:publica",
            "covid:19",
            "headline:treaty",
            "mailto:a@b",
            "a:b:c",
            "10:30",
            "note: x",
            "http://example.org",
            "a::b",
        ];
        for text in texts {
            assert!(parse(text).is_ok(), "{text}");
        }
    }

    /// These parsed, and matched nothing: `or` as a word, `sanc*ions` as a word with a star.
    #[test]
    fn operators_in_lower_case_and_a_star_inside_a_word_are_errors_with_a_hint() {
        let cases = [
            (
                "russia or ukraine",
                8,
                "\"or\" is not an operator: write OR in capitals to combine terms; quote \"or\" to search the word",
            ),
            ("russia and ukraine", 8, "\"and\" is not an operator: write AND in capitals to combine terms"),
            ("sanctions not russia", 11, "\"not\" is not an operator: write NOT in capitals to exclude a term"),
            (
                "treaty near/5 korea",
                8,
                "\"near/5\" is not an operator: write NEAR/5 in capitals to find terms close together",
            ),
            ("treaty Near korea", 8, "write NEAR in capitals"),
            ("sanc*ions", 1, "\"sanc*ions\" never matches: a * stands only at the end of a word, as in sanc*"),
            ("title:sanc*ions", 7, "a * stands only at the end of a word"),
        ];
        let mut wrong = Vec::new();
        for (query, column, expected) in cases {
            match parse(query) {
                Err(e) if e.column == column && e.message.contains(expected) => {}
                other => wrong.push(format!("{query:?}: expected {expected:?} at {column}, got {other:?}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        for fine in
            ["\"rock and roll\"", "\"or\"", "sanction*", "russia OR ukraine", "\"sanc*ions\"", "orange AND notice"]
        {
            assert!(parse(fine).is_ok(), "{fine}");
        }
    }
}
