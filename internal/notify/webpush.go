package notify

// ChannelWebPush is Web Push to a guardian's browser or installed web app
// (package webpush); the recipient is the push subscription's id.
const ChannelWebPush ChannelName = "webpush"

// The web push channel registers here, in its own file, so that the list of
// channels in message.go stays as it was for the code that reads it.
func init() { Channels = append(Channels, ChannelWebPush) }
