//! The options of the inputs that several commands share (`docs/cli.md`, "One vocabulary"), declared like a
//! technique's options so that the CLI checks them and prints their help from one declaration.

use super::options::{Kind, OptionSpec};

/// `--count N`: how many images of a data set a command uses, from the first. With `--idx IMAGES --index I`
/// it is the number of images from `I` (default 1); with a data set (`--images IDX`, and `monitor eval`'s
/// `--ood-images`) the first `N` of each file (default: all). More than a file holds is an error, never
/// silently fewer.
pub const COUNT: OptionSpec = OptionSpec {
    key: "count",
    flag: "count",
    label: "Images",
    help: "use N images: the first N of each data set (default all), or N from --index of --idx (default 1); \
           more than the file holds is an error",
    kind: Kind::Int {
        min: 1,
        max: None,
        default: None,
    },
    common: true,
    required: false,
};
