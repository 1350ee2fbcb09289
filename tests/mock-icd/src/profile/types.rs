//! Small value types of the profile schema with their JSON forms: versions as
//! `"1.3.230"`, UUIDs as 32 hex digits, device types by name.

use ash::vk;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A packed Vulkan version; JSON: `"major.minor.patch"` or the packed number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version(pub u32);

impl Version {
    /// `VK_MAKE_API_VERSION(0, major, minor, patch)`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self(vk::make_api_version(0, major, minor, patch))
    }

    /// Parses `"major.minor.patch"` (a missing patch is 0).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let patch: u32 = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() || major > 127 || minor > 1023 || patch > 4095 {
            return None;
        }
        Some(Self::new(major, minor, patch))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            vk::api_version_major(self.0),
            vk::api_version_minor(self.0),
            vk::api_version_patch(self.0)
        )
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum VersionRepr {
    Text(String),
    Packed(u32),
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match VersionRepr::deserialize(d)? {
            VersionRepr::Packed(v) => Ok(Self(v)),
            VersionRepr::Text(t) => Self::parse(&t).ok_or_else(|| {
                D::Error::custom(format!("bad version {t:?}, expected \"major.minor.patch\""))
            }),
        }
    }
}

/// A 16-byte UUID; JSON: 32 hex digits (dashes allowed) or an array of 16 numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Parses 32 hex digits, ignoring dashes.
    pub fn parse_hex(s: &str) -> Option<Self> {
        let digits: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
        if digits.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(Self(out))
    }

    /// A UUID whose bytes are an ASCII string padded with zeros (lavapipe's style).
    pub fn from_ascii(s: &str) -> Self {
        let mut out = [0u8; 16];
        for (o, b) in out.iter_mut().zip(s.bytes()) {
            *o = b;
        }
        Self(out)
    }

    /// 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UuidRepr {
    Text(String),
    Bytes([u8; 16]),
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match UuidRepr::deserialize(d)? {
            UuidRepr::Bytes(b) => Ok(Self(b)),
            UuidRepr::Text(t) => Self::parse_hex(&t)
                .ok_or_else(|| D::Error::custom(format!("bad UUID {t:?}, expected 32 hex digits"))),
        }
    }
}

/// `VkPhysicalDeviceType`; JSON: the name without the `VK_PHYSICAL_DEVICE_TYPE_` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeviceType {
    Other,
    IntegratedGpu,
    DiscreteGpu,
    VirtualGpu,
    Cpu,
}

impl DeviceType {
    /// The Vulkan value.
    pub fn to_vk(self) -> vk::PhysicalDeviceType {
        match self {
            Self::Other => vk::PhysicalDeviceType::OTHER,
            Self::IntegratedGpu => vk::PhysicalDeviceType::INTEGRATED_GPU,
            Self::DiscreteGpu => vk::PhysicalDeviceType::DISCRETE_GPU,
            Self::VirtualGpu => vk::PhysicalDeviceType::VIRTUAL_GPU,
            Self::Cpu => vk::PhysicalDeviceType::CPU,
        }
    }
}
