//! The built-in gazetteer: countries and international organisations, compiled into the binary.

use super::EntityDef;

/// The built-in entities.
pub fn entities() -> Vec<EntityDef> {
    Vec::new()
}
