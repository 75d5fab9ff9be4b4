// Linked into the win32 prebuilt addon only (scripts/prebuild.js). The addon imports the N-API
// functions from "node.exe" (an import library made from node-api-headers' def/node_api.def),
// delay-loaded: resolved on first call through this hook, which answers with the module of the
// running process. So the addon also loads in a host that exports N-API under another file name
// (Electron's electron.exe, a renamed node.exe); without it Windows would look for a file named
// node.exe. The same idea as node-gyp's win_delay_load_hook.cc, for mingw-w64's delay-load helper
// (libmingwex), whose hook pointer is set here when the DLL's constructors run, before Node calls
// napi_register_module_v1.
#include <windows.h>

#include <delayimp.h>
#include <string.h>

namespace {

FARPROC WINAPI load_exe_hook(unsigned event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary || _stricmp(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

struct InstallHook {
  InstallHook() { __pfnDliNotifyHook2 = load_exe_hook; }
} install_hook;

}  // namespace
