# Build the Windows bundle dist\AniSketch\ (AniSketch.exe windowed, anisketch-cli.exe console) and, when Inno
# Setup 6 is installed, the installer dist\AniSketch-<version>-windows-x64-setup.exe.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build.ps1
#   powershell -ExecutionPolicy Bypass -File packaging\build.ps1 -Python C:\path\to\python.exe -NoInstaller
param(
    [string]$Python = "",
    [switch]$NoInstaller
)
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

if (-not $Python) {
    if (Test-Path ".venv\Scripts\python.exe") { $Python = ".venv\Scripts\python.exe" } else { $Python = "python" }
}
& $Python -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) {
    Write-Host "== installing PyInstaller"
    & $Python -m pip install "pyinstaller>=6.6"
    if ($LASTEXITCODE -ne 0) { throw "pip install pyinstaller failed" }
}
foreach ($module in @("PySide6", "torch")) {
    & $Python -c "import $module"
    if ($LASTEXITCODE -ne 0) { throw "$module is not installed in $Python's environment" }
}

$tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("anisketch-build-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
    if (-not (Test-Path "resources\icons\anisketch.png") -and -not $env:ANISKETCH_BUILD_ICON) {
        Write-Host "note: no resources\icons\anisketch.png yet; bundling a generated placeholder icon"
        & $Python packaging\placeholder_icon.py "$tmp\anisketch.png"
        $env:ANISKETCH_BUILD_ICON = "$tmp\anisketch.png"
    }
    $env:ANISKETCH_PRUNE_REPORT = "build\pyinstaller\prune-report.txt"
    New-Item -ItemType Directory -Force -Path "build\pyinstaller" | Out-Null
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller `
        packaging\anisketch.spec
    if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
    $watch.Stop()
} finally {
    Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}

$bundle = "dist\AniSketch"
$bytes = (Get-ChildItem -Recurse -File $bundle | Measure-Object -Property Length -Sum).Sum
Write-Host ("== built {0} in {1:N0} s, {2:N0} MB unpacked" -f $bundle, $watch.Elapsed.TotalSeconds, ($bytes / 1MB))

& "$bundle\anisketch-cli.exe" --version
& "$bundle\anisketch-cli.exe" self-test
if ($LASTEXITCODE -ne 0) { Write-Warning "self-test failed" }

if (-not $NoInstaller) {
    $iscc = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
              "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe") | Where-Object { Test-Path $_ } | Select-Object -First 1
    if ($iscc) {
        $version = (Select-String -Path "anisketch_desktop\__init__.py" -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
        & $iscc "/DAppVersion=$version" "packaging\windows\anisketch.iss"
        if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
        Get-ChildItem "dist\AniSketch-$version-windows-x64-setup.exe" | ForEach-Object {
            Write-Host ("== installer {0}: {1:N0} MB" -f $_.Name, ($_.Length / 1MB))
        }
    } else {
        Write-Host "Inno Setup 6 not found (https://jrsoftware.org/isinfo.php): skipped the installer"
    }
}
