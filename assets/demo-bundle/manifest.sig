{
  "signatures": [
    {
      "keyid": "44006ebdbd551cf3ccfc6d4f08d49e5fff23cc5b0ce8db7fd6e0abc3dbe80f6e",
      "sig": "VPxcRvi4D8yteYnN9NwMrnyBosuk66asXE2ziqu0nke2/yUXj7Uw+V4cQjmcm4lxeHFDnPJtjQ6tj1ugQy7JDA=="
    }
  ]
}
