//! `convscope help`, `convscope <command> --help`: the commands' synopses, and for the commands that run a
//! technique, the technique's summary and options read from the catalogue (`convscope::catalogue`), so the
//! help cannot drift from what the options accept.

use convscope::catalogue::inputs::COUNT;
use convscope::catalogue::options::{Item, Kind, OptionSpec};
use convscope::catalogue::{self, Technique};
use convscope::{Error, Result};

/// A command: its name, synopsis (the inputs and outputs it takes) and what it does.
struct CommandDoc {
    name: &'static str,
    synopsis: &'static str,
    about: &'static str,
    /// The shared input options it takes (`convscope::catalogue::inputs`), described in its help.
    inputs: &'static [OptionSpec],
}

const INPUT: &str = "(--image F [--stages S.png] | --idx IMAGES --index I)";

const COMMANDS: [CommandDoc; 21] = [
    CommandDoc {
        name: "predict",
        synopsis: "--model M (--image F | --idx IMAGES [--index I] [--count N]) [--json]",
        about: "the predicted class of each image (--json: index, label, logits, probs per line)",
        inputs: &[COUNT],
    },
    CommandDoc {
        name: "eval",
        synopsis: "--model M --images IDX --labels IDX [--count N] [--json]",
        about: "accuracy and confusion matrix on a labelled data set",
        inputs: &[COUNT],
    },
    CommandDoc {
        name: "train",
        synopsis: "--train-images IDX --train-labels IDX [--test-images IDX --test-labels IDX] --out DIR/NAME \
                   [--manifest M] [--epochs N] [--batch-size N] [--optimizer adam|sgd] [--lr X] [--lr-decay X] \
                   [--weight-decay X] [--dropout P] [--augment] [--seed N] [--dataset mnist|fashion-mnist] \
                   [--name NAME] [--quiet]",
        about: "trains a LeNet-5 (or the architecture of --manifest) and writes DIR/NAME.json and its weights",
        inputs: &[],
    },
    CommandDoc {
        name: "activations",
        synopsis: "--model M (--image F | --idx IMAGES --index I) --layer L (--json | --out grid.png \
                   [--colormap NAME])",
        about: "one layer's output as JSON ({layer, shape, data}, what the page's layer explorer downloads) or \
                every channel as a PNG grid; --layer is a manifest name (relu2) or, as an alias, the layer's \
                1-based number",
        inputs: &[],
    },
    CommandDoc {
        name: "filters",
        synopsis: "--model M --layer L (--json | --out grid.png)",
        about: "a conv2d or linear layer's weights (OIHW / [out, in]) as JSON or a PNG grid",
        inputs: &[],
    },
    CommandDoc {
        name: "deconv",
        synopsis: "--model M (--image F | --idx IMAGES --index I) (--layer L --channel K [--unit all|max|Y,X] | \
                   --all) (--json | --out F.png) [--display diverging|gray]\n  \
                   convscope deconv --model M --idx IMAGES --labels IDX --digits 0,1,5,8 --out F.png",
        about: "Zeiler & Fergus deconvnet reconstructions; --layer names a conv block's output (pool2) or, as the \
                deconvnet's traditional alias, its conv layer (conv2)",
        inputs: &[],
    },
    CommandDoc {
        name: "attribute",
        synopsis: "--model M (--image F | --idx IMAGES --index I) [--method ID] [method options] [--json | --out F.png]",
        about: "an attribution map of one class score (the predicted class unless --target) by the method ID \
                (default: the one marked below); --log-prob is an alias of --output log_prob",
        inputs: &[],
    },
    CommandDoc {
        name: "monitor",
        synopsis: "build | check | eval (run `convscope monitor --help`)",
        about: "the runtime monitor of neuron activation patterns",
        inputs: &[COUNT],
    },
    CommandDoc {
        name: "patches",
        synopsis: "--model M --images SET --layer L [--top 9] [--count N] (--json | --out grid.png)",
        about: "maximally activating patches: per conv channel (or fc unit) the top images of the data set with \
                their receptive-field crop and deconvnet projection; JSON per unit: [{index, value, position, box}]",
        inputs: &[],
    },
    CommandDoc {
        name: "neighbours",
        synopsis: "--model M --images SET (--image F | --idx QUERY_IDX --index I) --layer L|pixels \
                   [--metric cosine|euclidean] [--top 10] [--count N] (--json | --out F.png)",
        about: "the data set's images nearest to the input in a layer's feature space, beside the nearest in \
                pixel space; --out draws both rows under the query",
        inputs: &[],
    },
    CommandDoc {
        name: "embed",
        synopsis: "--model M --images SET [--labels IDX|names] [--count N] --layer L|pixels --method pca|tsne|umap \
                   [--perplexity 30 --iterations 1000 --neighbors 15 --seed S ...] (--out map.png | --json)",
        about: "a 2-D map of the data set's images from a layer's features (PCA, t-SNE or UMAP); --out draws \
                it coloured by label (by prediction without --labels; `--labels names` reads PNG names like \
                7_0001.png), misclassified images crossed",
        inputs: &[],
    },
    CommandDoc {
        name: "visualize",
        synopsis: "--model M (--objective class:3|conv2:5|conv2:5@Y,X|fc2:17[,...] [--negative] [--batch B \
                   --diversity W] | --atlas class|LAYER) [--steps N --lr R --param pixel|fourier --jitter J \
                   --scale S --rotate D --tv W --l2 W --blur-every K --seed S] (--json | --out F.png|F.idx)",
        about: "images optimized from seeded noise to maximize an objective (activation maximization, class \
                images), or --atlas: one per channel/unit of a layer or per class; --json prints \
                {shape, data, objective, history} (raw pixels in [0, 1]), --out F.idx writes 8-bit images that \
                `predict --idx F` reads",
        inputs: &[],
    },
    CommandDoc {
        name: "dream",
        synopsis: "--model M (--image F | --idx IMAGES --index I) [--layer relu2] [--octaves 3 --octave-scale 1.4 \
                   --steps N --lr R --jitter J --seed S] (--json | --out F.png|F.idx)",
        about: "DeepDream: the input changed to raise a conv layer's energy, over octaves of growing size",
        inputs: &[],
    },
    CommandDoc {
        name: "invert",
        synopsis: "--model M (--image F | --idx IMAGES --index I) --layer L [--steps N --lr R --tv W --alpha A \
                   --norm W --seed S] (--json | --out F.png|F.idx)",
        about: "feature inversion: an image from seeded noise whose features at L match the input's",
        inputs: &[],
    },
    CommandDoc {
        name: "gram",
        synopsis: "--model M (--image F | --idx IMAGES --index I) --layer L --json",
        about: "the Gram matrix G = F Fᵀ/(H·W) of a conv-prefix layer: {\"layer\", \"shape\": [C, C], \"data\"}",
        inputs: &[],
    },
    CommandDoc {
        name: "texture",
        synopsis: "--style IMG [--net model|random] [--model M] [--size H,W] [--layers L1,L2 --layer-weights w1,w2] \
                   [--steps N --seed S --lr X] (--out F.png | --json)",
        about: "texture synthesis from seeded noise: RGB through the random network, luminance through the model; \
                --json: {\"shape\", \"data\", \"style_loss\", \"content_loss\": null, \"history\"}",
        inputs: &[],
    },
    CommandDoc {
        name: "style",
        synopsis: "--content IMG --style IMG [--net model|random] [--model M] [--content-layer L] \
                   [--style-layers L1,L2 --layer-weights w1,w2] [--content-weight A --style-weight B] \
                   [--start content|noise] [--steps N --seed S --lr X] (--out F.png | --json)",
        about: "neural style transfer: the content image's features at one layer, the style image's Gram matrices \
                at others; --json as for texture, with the content loss",
        inputs: &[],
    },
    CommandDoc {
        name: "nrm",
        synopsis: "train --model M --images IDX [--count N] [--layers L1,L2] [--correlation pearson|spearman] \
                   [--units mean|all] [--perplexity P] [--iterations N] [--seed S] --out map.json\n  \
                   convscope nrm generate --model M --map map.json (--image F | --idx IMAGES [--index I] [--count N]) \
                   [--labels IDX] [--method nearest|linear] [--colormap viridis] [--size H,W] [--circle] \
                   (--out F.png | --json)",
        about: "the neural response map: train lays the neurons of the chosen layers out by t-SNE on 1 − their \
                correlation over the inputs (the first 1,000 by default) and writes the map file (neuron ids, \
                layout, settings, mean, std and the correlation matrix under \"correlation\"); generate paints one \
                input's standardised activations (the mean over --count inputs, or one map per class with \
                --labels) over it",
        inputs: &[COUNT],
    },
    CommandDoc {
        name: "order",
        synopsis: "--model M (--image F | --idx IMAGES --index I) --layer L --by kmeans|pca [--k K] [--slice Y] \
                   [--seed S] (--json | --out F.png)",
        about: "a layer's maps reordered by k-means clusters or by their projection on the first principal \
                component, over whole maps or one row (--slice); the PNG shows before and after",
        inputs: &[],
    },
    CommandDoc {
        name: "weight-gradient",
        synopsis: "--model M (--image F | --idx IMAGES --index I) --layer conv1|conv2 [--target C] --json\n  \
                   convscope weight-gradient --model M --layer conv1|conv2 --compare REF[,SIMILAR,DISSIMILAR] \
                   --images IDX --labels IDX [--count N] [--per-class N] [--target C] (--out F.png | --json)",
        about: "d(class logit)/d(conv weights), {\"shape\": [O, I, kh, kw], \"data\", \"target\"}; --compare: its mean \
                over images of a reference class, the class most confused with it and a dissimilar one",
        inputs: &[COUNT],
    },
    CommandDoc {
        name: "help",
        synopsis: "[COMMAND]",
        about: "this list, or one command's options",
        inputs: &[],
    },
];

/// `convscope help`: every command and every technique with the command that runs it.
pub fn general() -> String {
    let mut out = String::from(
        "convscope — a microscope for convolutional networks\n\nusage: convscope <command> [options]\n",
    );
    for c in &COMMANDS {
        out += &format!("  {:<11} {}\n", c.name, c.synopsis);
    }
    out += "Run `convscope <command> --help` for a command's options. Inputs: ";
    out += INPUT;
    out +=
        "; a data set is --images IDX [--labels IDX] [--count N]; the dataset views' SET is an IDX file, a \
         folder of PNG files or several PNG files (as they are at the input size, preprocessed like --image \
         otherwise); layers are manifest names.\n\ntechniques:\n";
    for t in catalogue::techniques() {
        out += &format!("  {:<22} convscope {:<14} {}\n", t.id, t.command, t.label);
    }
    out
}

/// `convscope <command> --help`.
pub fn command(name: &str, monitor_usage: &str) -> Result<String> {
    let doc = COMMANDS.iter().find(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        Error::unknown("command", name, &names)
    })?;
    let mut out = if name == "monitor" {
        format!("{monitor_usage}\n")
    } else {
        format!(
            "usage: convscope {name} {}\n  {}\n",
            doc.synopsis, doc.about
        )
    };
    if !doc.inputs.is_empty() {
        out += "\ninputs:\n";
    }
    for o in doc.inputs {
        out += &format!("  --{:<12} {} [{}]\n", o.flag, o.help, describe(o));
    }
    let techniques: Vec<&Technique> = catalogue::techniques()
        .into_iter()
        .filter(|t| t.command.split(' ').next() == Some(name))
        .collect();
    if !techniques.is_empty() {
        out += "\ntechniques:\n";
    }
    for t in techniques {
        out += &technique(t);
    }
    Ok(out)
}

/// A technique's section: id, label, summary, paper, and one line per option.
fn technique(t: &Technique) -> String {
    let default = if t.is_family_default() {
        " (the default)"
    } else {
        ""
    };
    let mut out = format!("  {} — {}{default}: {}\n", t.id, t.label, t.summary);
    if let Some(p) = t.paper {
        out += &format!("      {} ({}, {}) {}\n", p.title, p.authors, p.year, p.url);
    }
    for o in t.options {
        out += &format!("      --{:<10} {} [{}]\n", o.flag, o.help, describe(o));
    }
    out
}

/// Type, range and default of an option, as the CLI spells them.
fn describe(o: &OptionSpec) -> String {
    let kind = match o.kind {
        Kind::Int { min, max, default } => {
            let range = max.map_or(format!("≥ {min}"), |max| format!("{min} to {max}"));
            let default = default.map_or(String::new(), |d| format!(", default {d}"));
            format!("whole number {range}{default}")
        }
        Kind::Float {
            min, max, default, ..
        } => match default {
            Some(d) => format!("number {min} to {max}, default {d}"),
            None => format!("number {min} to {max}"),
        },
        Kind::Choice { choices, default } => {
            let values: Vec<&str> = choices.iter().map(|c| c.value).collect();
            format!("{}, default {default}", values.join("|"))
        }
        Kind::Unit { default } => format!("all|max|Y,X, default {default}"),
        Kind::Layer { types: [] } => "layer name".to_string(),
        Kind::Layer { types } => format!("name of a {} layer", types.join("/")),
        Kind::Class => "class number".to_string(),
        Kind::Text => "text".to_string(),
        Kind::Flag => "flag, no value".to_string(),
        Kind::List { item, len } => {
            let count = len.map_or("comma-separated".to_string(), |n| {
                format!("{n} comma-separated")
            });
            match item {
                Item::Layer => format!("{count} layer names"),
                Item::Number {
                    min,
                    max,
                    whole: true,
                } => format!("{count} whole numbers {min} to {max}"),
                Item::Number { min, max, .. } => format!("{count} numbers {min} to {max}"),
            }
        }
    };
    if o.required {
        format!("{kind}, required")
    } else {
        kind
    }
}
