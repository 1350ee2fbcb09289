//! The child side: small ash programs, one per scenario, run by `handoff-scenario`.
//!
//! Every scenario prints exactly one JSON line on stdout at exit:
//! `{"findings":[…],"results":{…}}` plus `"error":"…"` (and exit status 2) when a Vulkan call
//! the scenario relies on failed. `findings` holds every debug-utils message received, Mesa's
//! and the loader's included; the harness filters Handoff's ids.

pub mod args;
pub mod barrier;
pub mod bind;
pub mod commands;
pub mod ctx;
pub mod dedicated;
pub mod export;
pub mod hostile;
pub mod hostile_handles;
pub mod import;
pub mod lifecycle;
pub mod ownership;
pub mod payload;
pub mod plain;
pub mod queries;
pub mod queues;
pub mod record;
pub mod resources;
pub mod share;
pub mod stress;
pub mod sync;

use serde_json::{json, Value};

/// A scenario's result values, or why it could not run.
pub type ScenarioResult = Result<Value, String>;

/// Runs the scenario named by `argv[1]` and returns the process exit status.
pub fn main(argv: Vec<String>) -> i32 {
    let Some(name) = argv.get(1).cloned() else {
        eprintln!("usage: handoff-scenario SCENARIO [ARGS…]");
        return 64;
    };
    let a = args::Args::new(argv[2..].to_vec());
    let res = match name.as_str() {
        "layers" => export::layers(&a),
        "get-fd" => export::get_fd(&a),
        "import" => import::import(&a),
        "fd-props" => import::fd_props(&a),
        "payload" => payload::payload(&a),
        "payload-params" => payload::payload_params(&a),
        "create-resource" => resources::create_resource(&a),
        "bind" => bind::bind(&a),
        "barrier" => barrier::barrier(&a),
        "commands" => commands::commands(&a),
        "ownership" => ownership::ownership(&a),
        "dedicated" => dedicated::dedicated(&a),
        "query" => queries::query(&a),
        "share-devices" => share::share_devices(&a),
        "share-process" => share::share_process(&a),
        "share-child" => share::share_child(&a),
        "sync" => sync::sync(&a),
        "queues" => queues::queues(&a),
        "hostile-handles" => hostile_handles::hostile_handles(&a),
        "hostile" => hostile::hostile(&a),
        "stress" => stress::stress(&a),
        "plain-device" => plain::plain_device(&a),
        "lifecycle" => lifecycle::lifecycle(&a),
        "leak-device" => lifecycle::leak_device(&a),
        "fork" => lifecycle::fork(&a),
        "thread-exit-after-unload" => lifecycle::thread_exit_after_unload(&a),
        // The bundled example, whole: it starts its own consumer process (this binary again).
        "image-handoff" => match handoff_examples::image_handoff::run(&argv[2..]) {
            0 => Ok(json!({})),
            code => Err(format!("image_handoff exited with {code}")),
        },
        "env" => Ok(env_report()),
        "sleep" => a.number("--seconds", 3600).map(|s| {
            std::thread::sleep(std::time::Duration::from_secs(s));
            json!({})
        }),
        other => Err(format!("unknown scenario {other:?}")),
    };
    let (results, error) = match res {
        Ok(v) => (v, None),
        Err(e) => (json!({}), Some(e)),
    };
    let mut out = json!({
        "findings": record::take_findings(),
        "results": results,
    });
    if let Some(e) = &error {
        out["error"] = json!(e);
    }
    println!("{out}");
    if error.is_some() {
        2
    } else {
        0
    }
}

/// `env`: the variables that steer the loader, the layer and the driver, as this process got
/// them (for the harness's own tests).
fn env_report() -> Value {
    let mut vars = serde_json::Map::new();
    for (k, v) in std::env::vars() {
        if k.starts_with("VK_")
            || k.starts_with("HANDOFF_")
            || k.starts_with("XDG_")
            || k == "HOME"
            || k == "RUST_LOG"
        {
            vars.insert(k, json!(v));
        }
    }
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    json!({ "vars": vars, "cwd": cwd })
}

/// `len` bytes of a pattern that differs for every `seed` and has no short period.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let i = i as u32;
            (i.wrapping_mul(31) ^ (i >> 8).wrapping_mul(97) ^ u32::from(seed).wrapping_mul(0x5b))
                as u8
        })
        .collect()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `0x…` for a handle.
pub fn handle_hex(raw: u64) -> String {
    format!("0x{raw:x}")
}
