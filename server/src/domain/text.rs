//! Text as a person typed it: a name, an address, a note. Checked once, where it enters
//! the program (a request body, an imported line), and trusted everywhere after.

use std::fmt;

/// Why a text was refused, in the words a client is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Blank where something is needed.
    #[error("must not be empty")]
    Empty,
    /// Longer than the field takes.
    #[error("at most {max} characters")]
    TooLong {
        /// The most characters the field takes.
        max: usize,
    },
    /// A control character (a line break, a NUL…): our records are single lines.
    #[error("must not contain control characters")]
    Control,
}

/// A line of text: trimmed, at least `MIN` and at most `MAX` characters (not bytes), no
/// control characters. `Text<200, 1>` is a required name, `Text<500>` an optional
/// address (empty when not given).
#[derive(Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize, const MIN: usize = 0>(String);

impl<const MAX: usize, const MIN: usize> Text<MAX, MIN> {
    /// `s` trimmed, if it fits.
    pub fn new(s: &str) -> Result<Self, TextError> {
        let v = s.trim();
        let n = v.chars().count();
        if n < MIN {
            return Err(TextError::Empty);
        }
        if n > MAX {
            return Err(TextError::TooLong { max: MAX });
        }
        if v.chars().any(char::is_control) {
            return Err(TextError::Control);
        }
        Ok(Text(v.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize, const MIN: usize> fmt::Debug for Text<MAX, MIN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize, const MIN: usize> fmt::Display for Text<MAX, MIN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize, const MIN: usize> std::str::FromStr for Text<MAX, MIN> {
    type Err = TextError;
    fn from_str(s: &str) -> Result<Self, TextError> {
        Text::new(s)
    }
}

impl<const MAX: usize, const MIN: usize> From<Text<MAX, MIN>> for String {
    fn from(t: Text<MAX, MIN>) -> String {
        t.0
    }
}

impl<'de, const MAX: usize, const MIN: usize> serde::Deserialize<'de> for Text<MAX, MIN> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Text::new(&s).map_err(serde::de::Error::custom)
    }
}

impl<const MAX: usize, const MIN: usize> utoipa::PartialSchema for Text<MAX, MIN> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(MIN))
            .max_length(Some(MAX))
            .into()
    }
}

impl<const MAX: usize, const MIN: usize> utoipa::ToSchema for Text<MAX, MIN> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_single_line() {
        type Name = Text<5, 1>;
        assert_eq!(Name::new("  瓜沥 ").unwrap().as_str(), "瓜沥");
        assert_eq!(Name::new("   "), Err(TextError::Empty));
        assert_eq!(Name::new("五个汉字呀").unwrap().as_str(), "五个汉字呀");
        assert_eq!(
            Name::new("六个汉字呀呀"),
            Err(TextError::TooLong { max: 5 })
        );
        assert_eq!(Name::new("a\nb"), Err(TextError::Control));
        assert_eq!(Text::<5>::new("").unwrap().as_str(), "");
        let parsed: Result<Name, _> = serde_json::from_str("\"\"");
        assert_eq!(
            parsed.map_err(|e| e.to_string()),
            Err("must not be empty".to_owned())
        );
    }
}
