//! Help resources by region (`content/resources.yaml`): names, numbers to call or text,
//! hours, websites, each with the source it was checked against and when.
//!
//! Which region: `--region`, then `TRUSTGUIDE_REGION`, then the locale (`LC_ALL`,
//! `LC_MESSAGES`, `LANG`, e.g. `en_GB.UTF-8` gives UK). The international entries are always
//! shown, and so is the advice to call the local emergency number.

use std::fmt::Write;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::content::BUILTIN_CONTENT;

/// One helpline or service.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    /// The service's name, as shown.
    pub name: String,
    /// The categories it helps with (`for:`), such as `self_harm` or `general`; the first
    /// with `emergency` and a number to call is a region's main crisis line.
    #[serde(default, rename = "for")]
    pub categories: Vec<String>,
    /// The number to call.
    pub call: Option<String>,
    /// The number to text.
    pub text: Option<String>,
    /// When it answers, in words (`24/7`).
    pub hours: Option<String>,
    /// The service's website.
    pub website: Option<String>,
    /// A line more, such as chat or TTY details.
    pub note: Option<String>,
    /// The page the entry was checked against.
    pub source: Option<String>,
    /// The date it was last checked, `YYYY-MM-DD`.
    pub checked: Option<String>,
}

/// The help for one region (or the international list).
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    /// The region's name in words (`United Kingdom`).
    pub name: String,
    /// The emergency number; for the international list, advice to call the local one.
    pub emergency: String,
    /// Its helplines, in the file's order.
    #[serde(default)]
    pub resources: Vec<Resource>,
}

/// Every region's help, as read from `content/resources.yaml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Resources {
    /// The date the file was last checked as a whole, `YYYY-MM-DD`.
    pub checked: String,
    /// The regions by code (`UK`, `US`, ...), in the file's order.
    pub regions: IndexMap<String, Region>,
    /// The helplines shown for every region, and alone when the region is unknown.
    pub international: Region,
}

impl Resources {
    /// The built-in resources.
    pub fn builtin() -> Result<Resources, String> {
        let text = BUILTIN_CONTENT
            .get_file("resources.yaml")
            .and_then(|f| f.contents_utf8())
            .ok_or("content/resources.yaml is missing from the build")?;
        serde_saphyr::from_str(text)
            .map_err(|e| format!("content/resources.yaml: {}", e.without_snippet()))
    }

    /// The region for a code such as `UK`, `gb`, `en_NZ.UTF-8`; `None` if it has no entry.
    pub fn region(&self, code: &str) -> Option<(&str, &Region)> {
        let code = region_code(code)?;
        self.regions
            .get_key_value(code.as_str())
            .map(|(k, r)| (k.as_str(), r))
    }

    /// The most urgent help for `region`, in two short lines: the emergency number, and the
    /// region's main crisis line (its first resource for an emergency that has a number to
    /// call). Without a known region: the local emergency number, and the international
    /// directory of helplines.
    pub fn urgent(&self, region: Option<&str>) -> String {
        match region.and_then(|r| self.region(r)) {
            Some((_, r)) => {
                let mut out = format!(
                    "If anyone is in danger right now, call {} ({}).",
                    r.emergency, r.name
                );
                let crisis = r
                    .resources
                    .iter()
                    .find(|res| {
                        res.call.is_some() && res.categories.iter().any(|c| c == "emergency")
                    })
                    .or_else(|| r.resources.iter().find(|res| res.call.is_some()))
                    // A region with no line of its own (the EU as a whole): the international one.
                    .or_else(|| self.international.resources.first());
                if let Some(res) = crisis {
                    let _ = write!(out, "\n{}", crisis_line(res));
                }
                out
            }
            None => {
                let mut out = "If anyone is in danger right now, call your local emergency number (112 across Europe, 911 in North America)."
                    .to_owned();
                if let Some(res) = self.international.resources.first() {
                    let _ = write!(out, "\n{}", crisis_line(res));
                }
                out
            }
        }
    }

    /// The help text for `region` (international only when `None` or unknown).
    pub fn render(&self, region: Option<&str>) -> String {
        let mut out = String::new();
        let found = region.and_then(|r| self.region(r));
        match found {
            Some((_, r)) => {
                let _ = writeln!(
                    out,
                    "If anyone is in danger right now, call {} ({}).\n",
                    r.emergency, r.name
                );
                if !r.resources.is_empty() {
                    let _ = writeln!(out, "Help in {}:", r.name);
                    for res in &r.resources {
                        write_resource(&mut out, res);
                    }
                    out.push('\n');
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "If anyone is in danger right now, call your local emergency number (112 across Europe, 911 in North America).\n"
                );
                if let Some(r) = region {
                    let known: Vec<&str> = self.regions.keys().map(String::as_str).collect();
                    let _ = writeln!(
                        out,
                        "(No list for region `{r}` yet; lists exist for {}. Use --region to choose one.)\n",
                        known.join(", ")
                    );
                }
            }
        }
        let _ = writeln!(out, "{}:", self.international.name);
        for res in &self.international.resources {
            write_resource(&mut out, res);
        }
        // The oldest check among the entries shown: that is how fresh this list is.
        let oldest = found
            .map(|(_, r)| r.resources.iter())
            .into_iter()
            .flatten()
            .chain(&self.international.resources)
            .filter_map(|r| r.checked.as_deref())
            .min()
            .unwrap_or(&self.checked);
        let _ = write!(out, "\nNumbers checked {oldest}.");
        out
    }
}

/// One resource on one line: `Samaritans: call 116 123 (24 hours a day)`.
fn crisis_line(r: &Resource) -> String {
    let how = match (&r.call, &r.website) {
        (Some(call), _) => format!("call {call}"),
        (None, Some(site)) => site.clone(),
        (None, None) => String::new(),
    };
    let hours = r
        .hours
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("{}: {how}{hours}", r.name)
}

fn write_resource(out: &mut String, r: &Resource) {
    let mut ways = Vec::new();
    if let Some(c) = &r.call {
        ways.push(format!("call {c}"));
    }
    if let Some(t) = &r.text {
        ways.push(format!("text {t}"));
    }
    let ways = if ways.is_empty() {
        String::new()
    } else {
        format!(": {}", ways.join(", "))
    };
    let hours = r
        .hours
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    let _ = writeln!(out, "  - {}{ways}{hours}", r.name);
    if let Some(w) = &r.website {
        let _ = writeln!(out, "    {w}");
    }
    if let Some(n) = &r.note {
        let _ = writeln!(out, "    {n}");
    }
}

/// `uk`, `GB`, `en_GB.UTF-8`, `en-gb` -> `UK`; `C` or `POSIX` -> none.
pub fn region_code(input: &str) -> Option<String> {
    let base = input
        .split('.')
        .next()
        .unwrap_or(input)
        .split('@')
        .next()
        .unwrap_or(input);
    let country = base
        .rsplit(['_', '-'])
        .next()
        .unwrap_or(base)
        .to_uppercase();
    let code = match country.as_str() {
        "" | "C" | "POSIX" => return None,
        "GB" | "UK" | "ENGLAND" | "SCOTLAND" | "WALES" => "UK",
        "USA" => "US",
        "IRL" => "IE",
        "AUS" => "AU",
        "NZL" => "NZ",
        "CAN" => "CA",
        "DEU" => "DE",
        "FRA" => "FR",
        "ESP" => "ES",
        "ITA" => "IT",
        "NLD" => "NL",
        "POL" => "PL",
        // The rest of the European Union: 112 works in every member state.
        "EUROPE" | "AT" | "BE" | "BG" | "HR" | "CY" | "CZ" | "DK" | "EE" | "FI" | "GR" | "HU"
        | "LV" | "LT" | "LU" | "MT" | "PT" | "RO" | "SK" | "SI" | "SE" => "EU",
        other => other,
    };
    Some(code.to_owned())
}

/// The region from the environment: `TRUSTGUIDE_REGION`, then the locale variables.
pub fn region_from_env() -> Option<String> {
    ["TRUSTGUIDE_REGION", "LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .and_then(|v| region_code(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_has_an_emergency_number_and_checked_entries() {
        let r = Resources::builtin().expect("resources load");
        for code in [
            "US", "CA", "UK", "IE", "AU", "NZ", "DE", "FR", "ES", "IT", "NL", "PL",
        ] {
            let region = &r.regions[code];
            assert!(!region.emergency.is_empty(), "{code}");
            assert!(!region.resources.is_empty(), "{code} has resources");
            for res in &region.resources {
                assert!(
                    res.source.is_some() && res.checked.is_some(),
                    "{code}: {} names its source and date",
                    res.name
                );
                assert!(
                    res.call.is_some() || res.text.is_some() || res.website.is_some(),
                    "{}",
                    res.name
                );
            }
        }
        assert!(!r.international.resources.is_empty());
    }

    #[test]
    fn regions_come_from_codes_and_locales() {
        assert_eq!(region_code("en_GB.UTF-8").as_deref(), Some("UK"));
        assert_eq!(region_code("uk").as_deref(), Some("UK"));
        assert_eq!(region_code("en-nz").as_deref(), Some("NZ"));
        assert_eq!(region_code("C"), None);
        assert_eq!(region_code("de_DE.UTF-8").as_deref(), Some("DE"));
        assert_eq!(region_code("pt_PT.UTF-8").as_deref(), Some("EU"));
        let r = Resources::builtin().expect("resources load");
        // The rest of the EU: 112, and the international line since none spans the EU.
        let eu = r.urgent(region_code("pt_PT").as_deref());
        assert!(
            eu.starts_with("If anyone is in danger right now, call 112 (European Union).")
                && eu.contains("Find A Helpline"),
            "{eu}"
        );
        assert!(r.urgent(Some("FR")).contains("call 112 (France)"));
        assert!(r.urgent(Some("IT")).contains("Telefono Amico"));
        // Anywhere else: the local number, with 112 and 911 named.
        assert!(r
            .urgent(Some("XX"))
            .contains("(112 across Europe, 911 in North America)"));
        let text = r.render(Some("UK"));
        assert!(
            text.contains("call 999") || text.contains("call 999 (United Kingdom)"),
            "{text}"
        );
        assert!(text.contains("116 123"), "{text}");
        assert!(r.render(Some("XX")).contains("No list for region `XX` yet"));
        let urgent = r.urgent(Some("UK"));
        assert!(
            urgent.starts_with("If anyone is in danger right now, call 999"),
            "{urgent}"
        );
        assert!(urgent.contains("Samaritans: call 116 123"), "{urgent}");
        assert_eq!(urgent.lines().count(), 2);
        assert!(r.urgent(Some("US")).contains("988"));
        assert!(r.urgent(None).contains("local emergency number"));
    }
}
