//! README.md's settings table is generated from the layer's own settings table
//! (`SettingSpec::markdown_table`); this keeps the two in sync.
//!
//! To regenerate after changing layer/src/settings/table.rs:
//! `HANDOFF_BLESS_README=1 cargo test --release -p handoff-cli --test settings_doc`.

use VkLayer_handoff::settings::SettingSpec;

const BEGIN: &str = "<!-- settings-table: generated from layer/src/settings/table.rs -->\n";
const END: &str = "<!-- end settings-table -->";

#[test]
fn readme_settings_table_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README lacks the settings-table begin marker")
        + BEGIN.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README lacks the settings-table end marker");
    let expected = SettingSpec::markdown_table();
    if readme[start..end] != expected && std::env::var_os("HANDOFF_BLESS_README").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        readme[start..end],
        expected,
        "README.md's settings table differs from the code's; run with HANDOFF_BLESS_README=1"
    );
}
