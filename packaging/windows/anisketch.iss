; Inno Setup 6 script: AniSketch-<version>-windows-x64-setup.exe from dist\AniSketch\ (made by build.ps1).
;
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\anisketch.iss
;
; build.ps1 runs this when Inno Setup is installed. Per-user install by default (no admin prompt); the user can
; choose "all users" in the first page. Start-menu entries always, a desktop shortcut if ticked.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\AniSketch"
#endif
#define IconFile AddBackslash(SourcePath) + "..\..\resources\icons\anisketch.ico"

[Setup]
AppId={{6B2F1E0C-5C8A-4E7B-9A53-2D1F7A9C4E11}
AppName=AniSketch
AppVersion={#AppVersion}
AppVerName=AniSketch {#AppVersion}
AppPublisher=AniSketch
DefaultDirName={autopf}\AniSketch
DefaultGroupName=AniSketch
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=AniSketch-{#AppVersion}-windows-x64-setup
; LZMA2 on ~700 MB of libraries: the installer is about a quarter of the unpacked size
Compression=lzma2/ultra64
SolidCompression=yes
LZMAUseSeparateProcess=yes
LZMANumBlockThreads=4
WizardStyle=modern
UninstallDisplayIcon={app}\AniSketch.exe
UninstallDisplayName=AniSketch
#if FileExists(IconFile)
SetupIconFile={#IconFile}
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\AniSketch"; Filename: "{app}\AniSketch.exe"; Comment: "Turn anime pictures into line art"
Name: "{autoprograms}\AniSketch command line"; Filename: "{cmd}"; Parameters: "/k ""{app}\anisketch-cli.exe"" --help"; WorkingDir: "{userdocs}"
Name: "{autodesktop}\AniSketch"; Filename: "{app}\AniSketch.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\AniSketch.exe"; Description: "{cm:LaunchProgram,AniSketch}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Byte-code caches written next to the program; the user's models and settings (%LOCALAPPDATA%\AniSketch) stay.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
