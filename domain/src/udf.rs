//! What a UDF JAR offers: its user-defined function classes, read from their bytecode.
//!
//! A class is a function when it is public, concrete, has a public no-argument
//! constructor (Flink instantiates functions registered by class name with it) and
//! extends one of Flink's function base classes, directly or through other classes of
//! the same JAR. The superclass chain is read from each class file's constant pool, so
//! neither file names nor a JVM are involved: the control plane need not run Java to
//! register a JAR, and nothing of the tenant's code is executed to learn what it holds.

use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;
use utoipa::ToSchema;

/// The kind of a user-defined function, as Flink's base class says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    Scalar,
    Table,
    Aggregate,
    TableAggregate,
    AsyncScalar,
    AsyncTable,
    ProcessTable,
}

impl FunctionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Scalar => "scalar",
            FunctionKind::Table => "table",
            FunctionKind::Aggregate => "aggregate",
            FunctionKind::TableAggregate => "table_aggregate",
            FunctionKind::AsyncScalar => "async_scalar",
            FunctionKind::AsyncTable => "async_table",
            FunctionKind::ProcessTable => "process_table",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            FunctionKind::Scalar,
            FunctionKind::Table,
            FunctionKind::Aggregate,
            FunctionKind::TableAggregate,
            FunctionKind::AsyncScalar,
            FunctionKind::AsyncTable,
            FunctionKind::ProcessTable,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind a Flink base class (internal name) stands for.
    fn of_base(internal_name: &str) -> Option<Self> {
        let name = internal_name.strip_prefix("org/apache/flink/table/functions/")?;
        Some(match name {
            "ScalarFunction" => FunctionKind::Scalar,
            "TableFunction" => FunctionKind::Table,
            "AggregateFunction" => FunctionKind::Aggregate,
            "TableAggregateFunction" => FunctionKind::TableAggregate,
            "AsyncScalarFunction" => FunctionKind::AsyncScalar,
            "AsyncTableFunction" => FunctionKind::AsyncTable,
            "ProcessTableFunction" => FunctionKind::ProcessTable,
            _ => return None,
        })
    }
}

/// A function class found in a JAR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFunction {
    /// The name SQL calls it by: the class's simple name in snake case
    /// (`com.acme.MaskEmail` is `mask_email`).
    pub name: String,
    /// The binary class name Flink loads (`com.acme.Outer$Inner`).
    pub class_name: String,
    pub kind: FunctionKind,
}

/// Why a file cannot be read as a JAR of functions.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error("the file is not a JAR (zip) archive: {0}")]
    NotAJar(String),
    #[error("the JAR's entry {entry} cannot be read: {reason}")]
    Unreadable { entry: String, reason: String },
}

/// Largest class file read; a bigger one is not a function class anyone wrote by hand.
const MAX_CLASS_BYTES: u64 = 16 * 1024 * 1024;

/// The function classes in the JAR, sorted by name.
pub fn scan_jar(bytes: &[u8]) -> Result<Vec<FoundFunction>, ScanError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ScanError::NotAJar(e.to_string()))?;
    let mut classes = HashMap::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ScanError::NotAJar(e.to_string()))?;
        let entry_name = entry.name().to_owned();
        // Classes of a multi-release JAR's version folders repeat the base ones.
        if !entry_name.ends_with(".class")
            || entry_name.starts_with("META-INF/")
            || entry.size() > MAX_CLASS_BYTES
        {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        // Never more than the limit, whatever the entry claims (a zip bomb's does not).
        (&mut entry)
            .take(MAX_CLASS_BYTES)
            .read_to_end(&mut data)
            .map_err(|e| ScanError::Unreadable {
                entry: entry_name.clone(),
                reason: e.to_string(),
            })?;
        // A file that is not a class file (or of a format we cannot read) is skipped:
        // it cannot be a function Flink loads either.
        if let Ok(class) = ClassInfo::parse(&data) {
            classes.insert(class.this_class.clone(), class);
        }
    }
    let mut found: Vec<FoundFunction> = classes
        .values()
        .filter(|c| c.is_instantiable())
        .filter_map(|c| {
            let kind = kind_through(&classes, &c.super_class)?;
            let class_name = c.this_class.replace('/', ".");
            Some(FoundFunction {
                name: sql_name(&class_name),
                class_name,
                kind,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name).then(a.class_name.cmp(&b.class_name)));
    Ok(found)
}

/// The function kind a superclass chain ends in, following classes of the same JAR.
fn kind_through(classes: &HashMap<String, ClassInfo>, first: &str) -> Option<FunctionKind> {
    let mut current = first.to_owned();
    // A chain longer than the number of classes is a cycle in a broken JAR.
    for _ in 0..=classes.len() {
        if let Some(kind) = FunctionKind::of_base(&current) {
            return Some(kind);
        }
        current = classes.get(&current)?.super_class.clone();
    }
    None
}

/// `com.acme.MaskEmail` is `mask_email`, `com.acme.Outer$HTTPCode` is `http_code`.
pub fn sql_name(class_name: &str) -> String {
    let simple = class_name.rsplit(['.', '$']).next().unwrap_or(class_name);
    let chars: Vec<char> = simple.chars().collect();
    let mut out = String::with_capacity(simple.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let starts_word = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// What Sluice reads of a class file: its name, its superclass and whether Flink can
/// instantiate it.
#[derive(Debug)]
struct ClassInfo {
    this_class: String,
    super_class: String,
    access: u16,
    public_no_arg_constructor: bool,
}

const ACC_PUBLIC: u16 = 0x0001;
const ACC_INTERFACE: u16 = 0x0200;
const ACC_ABSTRACT: u16 = 0x0400;

impl ClassInfo {
    fn is_instantiable(&self) -> bool {
        self.access & ACC_PUBLIC != 0
            && self.access & (ACC_INTERFACE | ACC_ABSTRACT) == 0
            && self.public_no_arg_constructor
    }

    /// Reads the class file format (JVMS chapter 4) up to the methods.
    fn parse(data: &[u8]) -> Result<Self, &'static str> {
        let mut r = Reader { data, at: 0 };
        if r.u32()? != 0xCAFE_BABE {
            return Err("not a class file");
        }
        r.skip(4)?; // minor and major version
        let count = r.u16()?;
        let mut utf8: HashMap<u16, String> = HashMap::new();
        let mut class_names: HashMap<u16, u16> = HashMap::new();
        let mut index = 1;
        while index < count {
            let tag = r.u8()?;
            match tag {
                1 => {
                    let len = r.u16()? as usize;
                    let bytes = r.take(len)?;
                    // Modified UTF-8 equals UTF-8 for every name that matters here.
                    utf8.insert(index, String::from_utf8_lossy(bytes).into_owned());
                }
                7 => {
                    class_names.insert(index, r.u16()?);
                }
                8 | 16 | 19 | 20 => r.skip(2)?,
                15 => r.skip(3)?,
                3 | 4 | 9 | 10 | 11 | 12 | 17 | 18 => r.skip(4)?,
                5 | 6 => {
                    r.skip(8)?;
                    index += 1; // a long or double takes two entries
                }
                _ => return Err("unknown constant pool tag"),
            }
            index += 1;
        }
        let class_name = |i: u16| -> Result<String, &'static str> {
            class_names
                .get(&i)
                .and_then(|name| utf8.get(name))
                .cloned()
                .ok_or("dangling class reference")
        };
        let access = r.u16()?;
        let this_class = class_name(r.u16()?)?;
        let super_index = r.u16()?;
        let super_class = if super_index == 0 {
            String::new()
        } else {
            class_name(super_index)?
        };
        let interfaces = r.u16()? as usize;
        r.skip(interfaces * 2)?;
        let fields = r.u16()?;
        for _ in 0..fields {
            r.skip(6)?;
            r.skip_attributes()?;
        }
        let methods = r.u16()?;
        let mut public_no_arg_constructor = false;
        for _ in 0..methods {
            let method_access = r.u16()?;
            let name = r.u16()?;
            let descriptor = r.u16()?;
            r.skip_attributes()?;
            if method_access & ACC_PUBLIC != 0
                && utf8.get(&name).map(String::as_str) == Some("<init>")
                && utf8.get(&descriptor).map(String::as_str) == Some("()V")
            {
                public_no_arg_constructor = true;
            }
        }
        Ok(ClassInfo {
            this_class,
            super_class,
            access,
            public_no_arg_constructor,
        })
    }
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("truncated class file")?;
        let bytes = self.data.get(self.at..end).ok_or("truncated class file")?;
        self.at = end;
        Ok(bytes)
    }

    fn skip(&mut self, n: usize) -> Result<(), &'static str> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn skip_attributes(&mut self) -> Result<(), &'static str> {
        let count = self.u16()?;
        for _ in 0..count {
            self.skip(2)?;
            let len = self.u32()? as usize;
            self.skip(len)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_names_are_snake_case_simple_names() {
        assert_eq!(sql_name("com.acme.MaskEmail"), "mask_email");
        assert_eq!(sql_name("com.acme.Outer$HTTPCode"), "http_code");
        assert_eq!(sql_name("Shout"), "shout");
        assert_eq!(sql_name("com.acme.ToBase64"), "to_base64");
        assert_eq!(sql_name("com.acme.already_snake"), "already_snake");
    }

    #[test]
    fn what_is_not_a_zip_is_refused() {
        assert!(matches!(
            scan_jar(b"just some text"),
            Err(ScanError::NotAJar(_))
        ));
    }

    /// Compiles `sources` (path, code) against stand-ins for Flink's base classes and
    /// packs the classes into a JAR; `None` where there is no JDK.
    fn compiled_jar(sources: &[(&str, &str)]) -> Option<Vec<u8>> {
        let dir = std::env::temp_dir().join(format!("sluice-udf-scan-{}", uuid::Uuid::new_v4()));
        let src = dir.join("src");
        let stubs = [
            ("org/apache/flink/table/functions/UserDefinedFunction.java", "package org.apache.flink.table.functions; public abstract class UserDefinedFunction {}"),
            ("org/apache/flink/table/functions/ScalarFunction.java", "package org.apache.flink.table.functions; public abstract class ScalarFunction extends UserDefinedFunction {}"),
            ("org/apache/flink/table/functions/TableFunction.java", "package org.apache.flink.table.functions; public abstract class TableFunction<T> extends UserDefinedFunction {}"),
            ("org/apache/flink/table/functions/AggregateFunction.java", "package org.apache.flink.table.functions; public abstract class AggregateFunction<T, A> extends UserDefinedFunction {}"),
        ];
        let mut files = Vec::new();
        for (path, code) in stubs.iter().chain(sources) {
            let file = src.join(path);
            std::fs::create_dir_all(file.parent()?).ok()?;
            std::fs::write(&file, code).ok()?;
            files.push(file);
        }
        let classes = dir.join("classes");
        let status = std::process::Command::new("javac")
            .arg("-d")
            .arg(&classes)
            .args(&files)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI has a JDK: javac must compile the test classes"
            );
            return None;
        }
        // Only the classes of the "user" (the stand-ins are provided by the engine).
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (path, _) in sources {
            let class_dir = classes.join(std::path::Path::new(path).parent()?);
            for entry in std::fs::read_dir(&class_dir).ok()? {
                let entry = entry.ok()?;
                let name = format!(
                    "{}/{}",
                    std::path::Path::new(path).parent()?.display(),
                    entry.file_name().to_string_lossy()
                );
                if name.ends_with(".class") {
                    zip.start_file(name, zip::write::SimpleFileOptions::default())
                        .ok()?;
                    std::io::Write::write_all(&mut zip, &std::fs::read(entry.path()).ok()?).ok()?;
                }
            }
        }
        zip.finish().ok()?;
        let _ = std::fs::remove_dir_all(&dir);
        Some(out.into_inner())
    }

    #[test]
    fn functions_are_found_by_their_base_class_through_the_jars_own_classes() {
        let Some(jar) = compiled_jar(&[
            ("com/acme/MaskEmail.java", "package com.acme; public class MaskEmail extends org.apache.flink.table.functions.ScalarFunction { public String eval(String s) { return s; } }"),
            ("com/acme/Shouting.java", "package com.acme; public abstract class Shouting extends org.apache.flink.table.functions.ScalarFunction {}"),
            ("com/acme/Shout.java", "package com.acme; public class Shout extends Shouting { public static class Louder extends Shout {} }"),
            ("com/acme/SplitWords.java", "package com.acme; public class SplitWords extends org.apache.flink.table.functions.TableFunction<String> {}"),
            ("com/acme/LongSum.java", "package com.acme; public class LongSum extends org.apache.flink.table.functions.AggregateFunction<Long, long[]> {}"),
            ("com/acme/NoDefault.java", "package com.acme; public class NoDefault extends org.apache.flink.table.functions.ScalarFunction { public NoDefault(int x) {} }"),
            ("com/acme/Hidden.java", "package com.acme; class Hidden extends org.apache.flink.table.functions.ScalarFunction {}"),
            ("com/acme/Texts.java", "package com.acme; public class Texts {}"),
        ]) else {
            return;
        };
        let found = scan_jar(&jar).unwrap();
        let summary: Vec<(&str, &str, FunctionKind)> = found
            .iter()
            .map(|f| (f.name.as_str(), f.class_name.as_str(), f.kind))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("long_sum", "com.acme.LongSum", FunctionKind::Aggregate),
                ("louder", "com.acme.Shout$Louder", FunctionKind::Scalar),
                ("mask_email", "com.acme.MaskEmail", FunctionKind::Scalar),
                ("shout", "com.acme.Shout", FunctionKind::Scalar),
                ("split_words", "com.acme.SplitWords", FunctionKind::Table),
            ]
        );
    }

    #[test]
    fn a_jar_without_function_classes_has_none() {
        let Some(jar) = compiled_jar(&[(
            "com/acme/Texts.java",
            "package com.acme; public class Texts {}",
        )]) else {
            return;
        };
        assert_eq!(scan_jar(&jar).unwrap(), Vec::new());
    }
}
