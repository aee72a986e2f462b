"""Build-time patch for github.com/pulumi/pulumi-docker-build (run on a writable copy of the module).

provider/internal/provider.go imports the C# and Java code generators
(github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen, github.com/pulumi/pulumi-java/pkg/codegen/java)
only to fill the "csharp"/"java" entries of the schema's language map, which matter for SDK generation, never
when the provider runs. Those modules are refused by the reachable Go module proxy (403), so the two struct
literals are rewritten as plain maps with the same JSON keys, the imports are removed, and go.mod stops
requiring the two modules.

Usage: python3 patch_docker_build.py <module-copy-dir>
"""

import re
import sys
from pathlib import Path

CSHARP = '''"csharp": map[string]any{
						"respectSchemaVersion": true,
						"packageReferences": map[string]string{
							"Pulumi": "3.*",
						},
					},'''

JAVA = '''"java": map[string]any{
						"buildFiles":                      "gradle",
						"gradleNexusPublishPluginVersion": "1.1.0",
						"dependencies": map[string]string{
							"com.pulumi:pulumi":               "0.20.0",
							"com.google.code.gson:gson":       "2.8.9",
							"com.google.code.findbugs:jsr305": "3.0.2",
						},
					},'''


def replace_block(src: str, opener: str, replacement: str) -> str:
    start = src.index(opener)
    indent = src[src.rindex("\n", 0, start) + 1 : start]
    end = src.index("\n" + indent + "},", start) + len("\n" + indent + "},")
    return src[:start] + replacement + src[end:]


def main(root: str) -> int:
    prov = Path(root, "provider/internal/provider.go")
    src = prov.read_text()
    src = re.sub(r'\n\tcsgen "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen"', "", src)
    src = re.sub(r'\n\t"github.com/pulumi/pulumi-java/pkg/codegen/java"', "", src)
    src = replace_block(src, '"csharp": csgen.CSharpPackageInfo{', CSHARP)
    src = replace_block(src, '"java": java.PackageInfo{', JAVA)
    if "csgen." in src or "java.PackageInfo" in src:
        print("patch_docker_build: unexpected leftovers in provider.go", file=sys.stderr)
        return 1
    prov.write_text(src)

    mod = Path(root, "go.mod")
    lines = [
        line
        for line in mod.read_text().splitlines(keepends=True)
        if not re.match(r"\s*github.com/pulumi/(pulumi-dotnet/pulumi-language-dotnet/v3|pulumi-java) ", line)
    ]
    mod.write_text("".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
