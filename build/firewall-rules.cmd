@echo off
rem Windows Defender Firewall rules for UnaMentis Server, so the iPhone on the home network reaches
rem the control API and the AI services. The installer runs this once, elevated ("add"); the
rem uninstaller runs it elevated ("remove"). Rules are limited to private and domain networks and
rem to the local subnet: nothing is opened on a public Wi-Fi.
rem   firewall-rules.cmd add "C:\Users\me\AppData\Local\Programs\UnaMentis Server\UnaMentis Server.exe"
rem   firewall-rules.cmd remove
rem Ports are the defaults (control 11400, Ollama 11434, VibeVoice 8880, Piper 11402, Whisper 11401);
rem the app rule also covers mDNS (UDP 5353) and a control port changed in settings.
setlocal
if /i "%~1"=="add" goto add
if /i "%~1"=="remove" goto remove
echo usage: %~nx0 add "path\to\UnaMentis Server.exe" ^| remove
exit /b 2

:add
if "%~2"=="" (
  echo add needs the path of the app's executable
  exit /b 2
)
call :remove >nul 2>&1
netsh advfirewall firewall add rule name="UnaMentis Server (app)" dir=in action=allow program="%~2" enable=yes profile=private,domain remoteip=localsubnet
netsh advfirewall firewall add rule name="UnaMentis Server (control port 11400)" dir=in action=allow protocol=TCP localport=11400 enable=yes profile=private,domain remoteip=localsubnet
netsh advfirewall firewall add rule name="UnaMentis Server (Ollama 11434)" dir=in action=allow protocol=TCP localport=11434 enable=yes profile=private,domain remoteip=localsubnet
netsh advfirewall firewall add rule name="UnaMentis Server (VibeVoice 8880)" dir=in action=allow protocol=TCP localport=8880 enable=yes profile=private,domain remoteip=localsubnet
netsh advfirewall firewall add rule name="UnaMentis Server (Piper 11402)" dir=in action=allow protocol=TCP localport=11402 enable=yes profile=private,domain remoteip=localsubnet
netsh advfirewall firewall add rule name="UnaMentis Server (Whisper 11401)" dir=in action=allow protocol=TCP localport=11401 enable=yes profile=private,domain remoteip=localsubnet
exit /b 0

:remove
netsh advfirewall firewall delete rule name="UnaMentis Server (app)"
netsh advfirewall firewall delete rule name="UnaMentis Server (control port 11400)"
netsh advfirewall firewall delete rule name="UnaMentis Server (Ollama 11434)"
netsh advfirewall firewall delete rule name="UnaMentis Server (VibeVoice 8880)"
netsh advfirewall firewall delete rule name="UnaMentis Server (Piper 11402)"
netsh advfirewall firewall delete rule name="UnaMentis Server (Whisper 11401)"
exit /b 0
