//! `Model.loadMonitor` and `Model.monitorCheck`: the runtime monitor of neuron activation patterns
//! ([`crate::explain::monitor`], Cheng et al. 2019) for the page's badge and pattern view. Patterns cross the
//! boundary unpacked, one `0`/`1` byte per neuron of the monitored layer.

use super::{args, JsObject, Model};
use crate::explain::monitor::{pattern, Monitor, GAMMA};
use crate::io::files::MAX_MONITOR_BYTES;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

/// The result type of `monitorCheck`, for the generated `convscope.d.ts`.
#[wasm_bindgen(typescript_custom_section)]
const MONITOR_TYPES: &'static str = r#"
/** The runtime monitor's verdict: `distance` is Infinity (and `nearest` empty) when no training pattern of
 *  the predicted class was recorded; `pattern` and `nearest` hold one 0/1 byte per neuron of `layer`. */
export type MonitorCheck = {
  label: number; warn: boolean; distance: number; gamma: number; layer: string;
  pattern: Uint8Array; nearest: Uint8Array;
};
"#;

#[wasm_bindgen]
impl Model {
    /// Reads a monitor file written by `convscope monitor build` and checks that it was built for this model
    /// (layer, width, classes and the weights' fingerprint); it replaces any monitor loaded before.
    #[wasm_bindgen(js_name = loadMonitor)]
    pub fn load_monitor(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    ) -> Result<(), JsError> {
        let bytes = args::bytes("monitor file", &bytes, MAX_MONITOR_BYTES)?;
        self.monitor = Some(Monitor::load(&bytes, &self.net)?);
        Ok(())
    }

    /// `{ label, warn, distance, gamma, layer, pattern: Uint8Array, nearest: Uint8Array }`: the predicted class,
    /// whether the input's on/off pattern is farther than `gamma` (default: the monitor's) in Hamming distance
    /// from every training pattern of that class, that distance, and both patterns. When no training image of
    /// the class was recorded, `distance` is `Infinity`, `warn` is true and `nearest` is empty.
    #[wasm_bindgen(js_name = monitorCheck, unchecked_return_type = "MonitorCheck")]
    pub fn monitor_check(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        gamma: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let monitor = self.monitor.as_ref().ok_or_else(|| {
            crate::Error::option(
                "monitor",
                "no monitor is loaded: call loadMonitor(bytes) first",
            )
        })?;
        let neurons = monitor.neurons();
        let gamma = gamma
            .map(|g| args::whole_number(GAMMA.key, g, neurons as u64))
            .transpose()?
            .map(|g| u32::try_from(g).unwrap_or(u32::MAX));
        let trace = self.trace(&image)?;
        let check = monitor.check(&self.net, &trace, gamma)?;
        let nearest = check
            .nearest
            .as_deref()
            .map(|words| pattern::unpack(words, neurons))
            .unwrap_or_default();
        Ok(JsObject::new()
            .set("label", check.label as f64)?
            .set("warn", check.warn)?
            .set("distance", check.distance.map_or(f64::INFINITY, f64::from))?
            .set("gamma", f64::from(check.gamma))?
            .set("layer", monitor.layer())?
            .set(
                "pattern",
                Uint8Array::from(&pattern::unpack(&check.pattern, neurons)[..]),
            )?
            .set("nearest", Uint8Array::from(&nearest[..]))?
            .into())
    }
}
