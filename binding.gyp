{
  "variables": {
    # Debian 12 ships libopeniscsiusr without a .pc file or an unversioned .so link, so the header is the probe.
    "OPENISCSI_ASAN%": 0,
    "has_libopeniscsiusr%": "<!(test -f /usr/include/libopeniscsiusr.h && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "openiscsi",
      "sources": ["<!@(ls -1 native/*.cc native/usr/*.cc native/ipc/*.cc native/multipath/*.cc native/files/*.cc 2>/dev/null)"],
      "include_dirs": ["native"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror=return-type", "-fvisibility=hidden", "-fstack-protector-strong"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++14", "-std=gnu++1y", "-std=gnu++20"],
      "conditions": [
        ["OS=='linux' and has_libopeniscsiusr==1", {
          "defines": ["HAVE_LIBOPENISCSIUSR=1"],
          # Not linked: native/usr/usr_dl.cc loads libopeniscsiusr.so.0 when a call first needs it.
          "libraries": ["-ldl"]
        }],
        ["OPENISCSI_ASAN==1", {
          "cflags_cc": ["-fsanitize=address", "-fno-omit-frame-pointer"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
