; electron-builder NSIS include (nsis.include): Windows Defender Firewall rules for the control port
; and the AI services' ports. The installer is per-user (no admin), and firewall rules need admin,
; so firewall-rules.cmd runs elevated: one UAC prompt on a first install, none on updates (the rules
; are kept), one on uninstall (only when the rules exist). Declining leaves the app working on this
; computer; Windows then asks on its own the first time a service listens.

!define UNAMENTIS_RULE_PROBE 'advfirewall firewall show rule name="UnaMentis Server (control port 11400)"'

!macro customInstall
  ${ifNot} ${isUpdated}
    nsExec::ExecToStack '"$SYSDIR\netsh.exe" ${UNAMENTIS_RULE_PROBE}'
    Pop $0
    Pop $1
    ${if} $0 != 0
      DetailPrint "Allowing the iPhone to reach UnaMentis Server through Windows Firewall (asks for permission once)"
      ExecShellWait "runas" "$SYSDIR\cmd.exe" '/d /c ""$INSTDIR\resources\firewall-rules.cmd" add "$INSTDIR\${APP_EXECUTABLE_FILENAME}""' SW_HIDE
    ${endIf}
  ${endIf}
!macroend

!macro customUnInstall
  ${ifNot} ${isUpdated}
    nsExec::ExecToStack '"$SYSDIR\netsh.exe" ${UNAMENTIS_RULE_PROBE}'
    Pop $0
    Pop $1
    ${if} $0 == 0
      DetailPrint "Removing the Windows Firewall rules of UnaMentis Server"
      ExecShellWait "runas" "$SYSDIR\cmd.exe" '/d /c ""$INSTDIR\resources\firewall-rules.cmd" remove"' SW_HIDE
    ${endIf}
  ${endIf}
!macroend
