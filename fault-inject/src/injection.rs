//! The fault of one trial as the guest sees it: `MODEL:TARGET:TRIGGER:LOCATION`.

use core::fmt;
use core::str::FromStr;

use crate::error::ParseError;
use crate::location::Location;
use crate::model::Model;
use crate::target::Target;
use crate::trigger::Trigger;

/// Separator between the four fields of an injection.
const FIELD_SEPARATOR: char = ':';

/// A location that does not fit the model (a register for `panic`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {model} fault takes a location of the form {expected}")]
pub struct LocationMismatch {
    /// The model.
    pub model: Model,
    /// The shape of location the model takes.
    pub expected: &'static str,
}

/// One fault: which model, into which server, when and where.
///
/// # Invariants
/// The location is of the kind the model takes (see [`Injection::try_new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Injection {
    model: Model,
    target: Target,
    trigger: Trigger,
    location: Location,
}

impl Injection {
    /// Checks that `location` fits `model`: a register for `regflip`, a
    /// memory location for `memflip`, a CFI site for `cfi`, a pointer site
    /// for `wildptr`, a plain site for `panic`, `hang` and `stackoverflow`.
    pub fn try_new(
        model: Model,
        target: Target,
        trigger: Trigger,
        location: Location,
    ) -> Result<Self, LocationMismatch> {
        let fits = matches!(
            (model, location),
            (Model::Regflip, Location::Register { .. })
                | (Model::Memflip, Location::Memory { .. })
                | (Model::Cfi, Location::Cfi { .. })
                | (Model::Wildptr, Location::WildPtr { .. })
                | (Model::Panic | Model::Hang | Model::Stackoverflow, Location::Site(_))
        );
        if fits {
            Ok(Injection { model, target, trigger, location })
        } else {
            Err(LocationMismatch { model, expected: location_shape(model) })
        }
    }

    /// An injection the plan made, whose location is of the model's kind by
    /// construction; checked in debug builds.
    pub(crate) fn planned(model: Model, target: Target, trigger: Trigger, location: Location) -> Self {
        debug_assert!(Self::try_new(model, target, trigger, location).is_ok());
        Injection { model, target, trigger, location }
    }

    /// The fault model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The server the fault goes into.
    pub fn target(&self) -> Target {
        self.target
    }

    /// When it fires.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// Where it lands.
    pub fn location(&self) -> Location {
        self.location
    }
}

/// The spelling of the locations a model takes, for error messages.
fn location_shape(model: Model) -> &'static str {
    match model {
        Model::Regflip => "REGISTER.BIT",
        Model::Memflip => "REGION.OFFSET.BIT",
        Model::Cfi => "ret.SITE or fnptr.SITE",
        Model::Wildptr => "null.SITE or wild.SITE",
        Model::Panic | Model::Hang | Model::Stackoverflow => "site.SITE",
    }
}

impl fmt::Display for Injection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = FIELD_SEPARATOR;
        write!(f, "{}{sep}{}{sep}{}{sep}{}", self.model, self.target, self.trigger, self.location)
    }
}

impl FromStr for Injection {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut fields = s.split(FIELD_SEPARATOR);
        let (Some(model), Some(target), Some(trigger), Some(location), None) =
            (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(ParseError::WrongShape {
                what: "injection",
                expected: "MODEL:TARGET:TRIGGER:LOCATION",
            });
        };
        Ok(Injection::try_new(
            model.parse()?,
            target.parse()?,
            trigger.parse()?,
            location.parse()?,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bit::RegisterBit;
    use crate::location::Register;

    fn fs() -> Target {
        Target::try_new("fs").unwrap()
    }

    #[test]
    fn prints_the_four_fields_and_parses_them_back() {
        let location = Location::Register { register: Register::Rsp, bit: RegisterBit::new(5).unwrap() };
        let injection = Injection::try_new(Model::Regflip, fs(), Trigger::AfterTicks(40), location).unwrap();
        assert_eq!(injection.to_string(), "regflip:fs:ticks.40:rsp.5");
        assert_eq!("regflip:fs:ticks.40:rsp.5".parse::<Injection>(), Ok(injection));
    }

    #[test]
    fn a_location_of_another_model_is_refused() {
        let site = Location::Site(3);
        assert_eq!(
            Injection::try_new(Model::Regflip, fs(), Trigger::AfterOps(1), site),
            Err(LocationMismatch { model: Model::Regflip, expected: "REGISTER.BIT" })
        );
        assert_eq!(
            "cfi:fs:ops.1:site.3".parse::<Injection>(),
            Err(ParseError::Mismatch(LocationMismatch { model: Model::Cfi, expected: "ret.SITE or fnptr.SITE" }))
        );
        for model in [Model::Panic, Model::Hang, Model::Stackoverflow] {
            assert!(Injection::try_new(model, fs(), Trigger::AfterOps(1), site).is_ok());
        }
    }

    #[test]
    fn each_field_reports_its_own_error() {
        let shape = ParseError::WrongShape { what: "injection", expected: "MODEL:TARGET:TRIGGER:LOCATION" };
        assert_eq!("panic:fs:ops.1".parse::<Injection>(), Err(shape));
        assert_eq!("panic:fs:ops.1:site.1:x".parse::<Injection>(), Err(shape));
        assert_eq!("oops:fs:ops.1:site.1".parse::<Injection>(), Err(ParseError::UnknownModel));
        assert_eq!(
            "panic:FS:ops.1:site.1".parse::<Injection>(),
            Err(ParseError::Target(crate::target::TargetError::BadCharacter('F')))
        );
        assert_eq!("panic:fs:soon:site.1".parse::<Injection>(), Err(ParseError::WrongShape { what: "trigger", expected: "ops.N or ticks.N" }));
        assert_eq!("panic:fs:ops.1:here".parse::<Injection>(), Err(ParseError::WrongShape { what: "location", expected: "KIND.SITE" }));
    }
}
