package contactid

import "qorgan/internal/protocol/alarmcode"

// codeInfo is what Qorgan knows about one three-digit event code.
type codeInfo struct {
	name string
	typ  alarmcode.Type
	// openClose codes read qualifier 1 as opening and 3 as closing.
	openClose bool
	// byUser codes carry a user number, not a zone, in CCC.
	byUser bool
	// siaNew and siaRestore are the SIA DCS equivalents for qualifier 1
	// and 3, as receivers commonly show them.
	siaNew, siaRestore string
}

// lookup is a switch rather than a map so the table cannot be changed at
// run time. Names follow the Ademco Contact ID event list; Qorgan types
// are set only where Qorgan acts on the event.
func lookup(event string) (codeInfo, bool) {
	switch event {
	case "100":
		return codeInfo{name: "Medical", typ: alarmcode.Medical, siaNew: "MA", siaRestore: "MH"}, true
	case "101":
		return codeInfo{name: "Personal emergency (pendant)", typ: alarmcode.Panic, siaNew: "QA", siaRestore: "QH"}, true
	case "102":
		return codeInfo{name: "Fail to report in", typ: alarmcode.Unknown}, true
	case "110":
		return codeInfo{name: "Fire", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "111":
		return codeInfo{name: "Smoke", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "112":
		return codeInfo{name: "Combustion", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "113":
		return codeInfo{name: "Water flow", typ: alarmcode.Fire, siaNew: "SA", siaRestore: "SH"}, true
	case "114":
		return codeInfo{name: "Heat", typ: alarmcode.Fire, siaNew: "KA", siaRestore: "KH"}, true
	case "115":
		return codeInfo{name: "Pull station", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "116":
		return codeInfo{name: "Duct", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "117":
		return codeInfo{name: "Flame", typ: alarmcode.Fire, siaNew: "FA", siaRestore: "FH"}, true
	case "118":
		return codeInfo{name: "Near alarm", typ: alarmcode.Unknown}, true
	case "120":
		return codeInfo{name: "Panic", typ: alarmcode.Panic, siaNew: "PA", siaRestore: "PH"}, true
	case "121":
		return codeInfo{name: "Duress", typ: alarmcode.Duress, byUser: true, siaNew: "HA", siaRestore: "HH"}, true
	case "122":
		return codeInfo{name: "Silent panic", typ: alarmcode.SilentPanic, siaNew: "HA", siaRestore: "HH"}, true
	case "123":
		return codeInfo{name: "Audible panic", typ: alarmcode.Panic, siaNew: "PA", siaRestore: "PH"}, true
	case "124":
		return codeInfo{name: "Duress, access granted", typ: alarmcode.Duress, siaNew: "HA", siaRestore: "HH"}, true
	case "125":
		return codeInfo{name: "Duress, egress granted", typ: alarmcode.Duress, siaNew: "HA", siaRestore: "HH"}, true
	case "130":
		return codeInfo{name: "Burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "131":
		return codeInfo{name: "Perimeter burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "132":
		return codeInfo{name: "Interior burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "133":
		return codeInfo{name: "24-hour burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "134":
		return codeInfo{name: "Entry/exit burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "135":
		return codeInfo{name: "Day/night burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "136":
		return codeInfo{name: "Outdoor burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "137":
		return codeInfo{name: "Tamper", typ: alarmcode.Tamper, siaNew: "TA", siaRestore: "TR"}, true
	case "138":
		return codeInfo{name: "Near alarm", typ: alarmcode.Unknown}, true
	case "139":
		return codeInfo{name: "Intrusion verifier", typ: alarmcode.Unknown}, true
	case "140":
		return codeInfo{name: "General alarm", typ: alarmcode.Unknown, siaNew: "UA", siaRestore: "UH"}, true
	case "141":
		return codeInfo{name: "Polling loop open", typ: alarmcode.Unknown}, true
	case "142":
		return codeInfo{name: "Polling loop short", typ: alarmcode.Unknown}, true
	case "143":
		return codeInfo{name: "Expansion module failure", typ: alarmcode.Unknown, siaNew: "ET", siaRestore: "ER"}, true
	case "144":
		return codeInfo{name: "Sensor tamper", typ: alarmcode.Tamper, siaNew: "TA", siaRestore: "TR"}, true
	case "145":
		return codeInfo{name: "Expansion module tamper", typ: alarmcode.Tamper, siaNew: "ES", siaRestore: "EJ"}, true
	case "146":
		return codeInfo{name: "Silent burglary", typ: alarmcode.Burglary, siaNew: "BA", siaRestore: "BH"}, true
	case "147":
		return codeInfo{name: "Sensor supervision failure", typ: alarmcode.Unknown}, true
	case "150":
		return codeInfo{name: "24-hour auxiliary", typ: alarmcode.Unknown, siaNew: "UA", siaRestore: "UH"}, true
	case "151":
		return codeInfo{name: "Gas detected", typ: alarmcode.Unknown, siaNew: "GA", siaRestore: "GH"}, true
	case "152":
		return codeInfo{name: "Refrigeration", typ: alarmcode.Unknown}, true
	case "153":
		return codeInfo{name: "Loss of heat", typ: alarmcode.Unknown}, true
	case "154":
		return codeInfo{name: "Water leakage", typ: alarmcode.Unknown, siaNew: "WA", siaRestore: "WH"}, true
	case "155":
		return codeInfo{name: "Foil break", typ: alarmcode.Unknown}, true
	case "156":
		return codeInfo{name: "Day trouble", typ: alarmcode.Unknown}, true
	case "157":
		return codeInfo{name: "Low bottled gas level", typ: alarmcode.Unknown}, true
	case "158":
		return codeInfo{name: "High temperature", typ: alarmcode.Unknown}, true
	case "159":
		return codeInfo{name: "Low temperature", typ: alarmcode.Unknown}, true
	case "161":
		return codeInfo{name: "Loss of air flow", typ: alarmcode.Unknown}, true
	case "162":
		return codeInfo{name: "Carbon monoxide detected", typ: alarmcode.Unknown, siaNew: "GA", siaRestore: "GH"}, true
	case "163":
		return codeInfo{name: "Tank level", typ: alarmcode.Unknown}, true
	case "168":
		return codeInfo{name: "High humidity", typ: alarmcode.Unknown}, true
	case "169":
		return codeInfo{name: "Low humidity", typ: alarmcode.Unknown}, true
	case "200":
		return codeInfo{name: "Fire supervisory", typ: alarmcode.Unknown, siaNew: "FS", siaRestore: "FV"}, true
	case "201":
		return codeInfo{name: "Low water pressure", typ: alarmcode.Unknown}, true
	case "202":
		return codeInfo{name: "Low CO2", typ: alarmcode.Unknown}, true
	case "203":
		return codeInfo{name: "Gate valve sensor", typ: alarmcode.Unknown}, true
	case "204":
		return codeInfo{name: "Low water level", typ: alarmcode.Unknown}, true
	case "205":
		return codeInfo{name: "Pump activated", typ: alarmcode.Unknown}, true
	case "206":
		return codeInfo{name: "Pump failure", typ: alarmcode.Unknown}, true
	case "300":
		return codeInfo{name: "System trouble", typ: alarmcode.Unknown}, true
	case "301":
		return codeInfo{name: "AC loss", typ: alarmcode.ACLoss, siaNew: "AT", siaRestore: "AR"}, true
	case "302":
		return codeInfo{name: "Low system battery", typ: alarmcode.LowBattery, siaNew: "YT", siaRestore: "YR"}, true
	case "303":
		return codeInfo{name: "RAM checksum bad", typ: alarmcode.Unknown}, true
	case "304":
		return codeInfo{name: "ROM checksum bad", typ: alarmcode.Unknown}, true
	case "305":
		return codeInfo{name: "System reset", typ: alarmcode.Unknown}, true
	case "306":
		return codeInfo{name: "Panel programming changed", typ: alarmcode.Unknown}, true
	case "307":
		return codeInfo{name: "Self-test failure", typ: alarmcode.Unknown}, true
	case "308":
		return codeInfo{name: "System shutdown", typ: alarmcode.Unknown}, true
	case "309":
		return codeInfo{name: "Battery test failure", typ: alarmcode.LowBattery, siaNew: "YT", siaRestore: "YR"}, true
	case "310":
		return codeInfo{name: "Ground fault", typ: alarmcode.Unknown}, true
	case "311":
		return codeInfo{name: "Battery missing", typ: alarmcode.LowBattery, siaNew: "YM", siaRestore: "YR"}, true
	case "312":
		return codeInfo{name: "Power supply overcurrent", typ: alarmcode.Unknown}, true
	case "313":
		return codeInfo{name: "Engineer reset", typ: alarmcode.Unknown}, true
	case "314":
		return codeInfo{name: "Primary power supply failure", typ: alarmcode.ACLoss, siaNew: "AT", siaRestore: "AR"}, true
	case "316":
		return codeInfo{name: "System tamper", typ: alarmcode.Tamper, siaNew: "TA", siaRestore: "TR"}, true
	case "320":
		return codeInfo{name: "Sounder/relay", typ: alarmcode.Unknown}, true
	case "321":
		return codeInfo{name: "Bell 1", typ: alarmcode.Unknown, siaNew: "YA", siaRestore: "YH"}, true
	case "322":
		return codeInfo{name: "Bell 2", typ: alarmcode.Unknown, siaNew: "YA", siaRestore: "YH"}, true
	case "323":
		return codeInfo{name: "Alarm relay", typ: alarmcode.Unknown}, true
	case "324":
		return codeInfo{name: "Trouble relay", typ: alarmcode.Unknown}, true
	case "325":
		return codeInfo{name: "Reversing relay", typ: alarmcode.Unknown}, true
	case "326":
		return codeInfo{name: "Notification appliance circuit 3", typ: alarmcode.Unknown}, true
	case "327":
		return codeInfo{name: "Notification appliance circuit 4", typ: alarmcode.Unknown}, true
	case "330":
		return codeInfo{name: "System peripheral trouble", typ: alarmcode.Unknown}, true
	case "331":
		return codeInfo{name: "Polling loop open", typ: alarmcode.Unknown}, true
	case "332":
		return codeInfo{name: "Polling loop short", typ: alarmcode.Unknown}, true
	case "333":
		return codeInfo{name: "Expansion module failure", typ: alarmcode.Unknown, siaNew: "ET", siaRestore: "ER"}, true
	case "334":
		return codeInfo{name: "Repeater failure", typ: alarmcode.Unknown}, true
	case "335":
		return codeInfo{name: "Local printer paper out", typ: alarmcode.Unknown}, true
	case "336":
		return codeInfo{name: "Local printer failure", typ: alarmcode.Unknown}, true
	case "337":
		return codeInfo{name: "Expansion module DC loss", typ: alarmcode.Unknown}, true
	case "338":
		return codeInfo{name: "Expansion module low battery", typ: alarmcode.LowBattery}, true
	case "339":
		return codeInfo{name: "Expansion module reset", typ: alarmcode.Unknown}, true
	case "341":
		return codeInfo{name: "Expansion module tamper", typ: alarmcode.Tamper, siaNew: "ES", siaRestore: "EJ"}, true
	case "342":
		return codeInfo{name: "Expansion module AC loss", typ: alarmcode.ACLoss}, true
	case "343":
		return codeInfo{name: "Expansion module self-test failure", typ: alarmcode.Unknown}, true
	case "344":
		return codeInfo{name: "RF receiver jam detected", typ: alarmcode.Unknown}, true
	case "345":
		return codeInfo{name: "AES encryption disabled/enabled", typ: alarmcode.Unknown}, true
	case "350":
		return codeInfo{name: "Communication trouble", typ: alarmcode.CommTrouble, siaNew: "YC", siaRestore: "YK"}, true
	case "351":
		return codeInfo{name: "Telco 1 fault", typ: alarmcode.CommTrouble, siaNew: "LT", siaRestore: "LR"}, true
	case "352":
		return codeInfo{name: "Telco 2 fault", typ: alarmcode.CommTrouble, siaNew: "LT", siaRestore: "LR"}, true
	case "353":
		return codeInfo{name: "Long range radio transmitter fault", typ: alarmcode.CommTrouble, siaNew: "YC", siaRestore: "YK"}, true
	case "354":
		return codeInfo{name: "Failure to communicate event", typ: alarmcode.CommTrouble, siaNew: "YC", siaRestore: "YK"}, true
	case "355":
		return codeInfo{name: "Loss of radio supervision", typ: alarmcode.CommTrouble}, true
	case "356":
		return codeInfo{name: "Loss of central polling", typ: alarmcode.CommTrouble}, true
	case "357":
		return codeInfo{name: "Long range radio VSWR problem", typ: alarmcode.CommTrouble}, true
	case "370":
		return codeInfo{name: "Protection loop", typ: alarmcode.Unknown}, true
	case "371":
		return codeInfo{name: "Protection loop open", typ: alarmcode.Unknown}, true
	case "372":
		return codeInfo{name: "Protection loop short", typ: alarmcode.Unknown}, true
	case "373":
		return codeInfo{name: "Fire trouble", typ: alarmcode.Unknown, siaNew: "FT", siaRestore: "FJ"}, true
	case "374":
		return codeInfo{name: "Exit error alarm", typ: alarmcode.Unknown, byUser: true, siaNew: "EA"}, true
	case "375":
		return codeInfo{name: "Panic zone trouble", typ: alarmcode.Unknown, siaNew: "PT", siaRestore: "PJ"}, true
	case "376":
		return codeInfo{name: "Hold-up zone trouble", typ: alarmcode.Unknown, siaNew: "HT", siaRestore: "HJ"}, true
	case "377":
		return codeInfo{name: "Swinger trouble", typ: alarmcode.Unknown}, true
	case "378":
		return codeInfo{name: "Cross-zone trouble", typ: alarmcode.Unknown}, true
	case "380":
		return codeInfo{name: "Sensor trouble", typ: alarmcode.Unknown}, true
	case "381":
		return codeInfo{name: "Loss of supervision, RF", typ: alarmcode.Unknown}, true
	case "382":
		return codeInfo{name: "Loss of supervision, RPM", typ: alarmcode.Unknown}, true
	case "383":
		return codeInfo{name: "Sensor tamper", typ: alarmcode.Tamper, siaNew: "TA", siaRestore: "TR"}, true
	case "384":
		return codeInfo{name: "RF low battery", typ: alarmcode.LowBattery, siaNew: "XT", siaRestore: "XR"}, true
	case "385":
		return codeInfo{name: "Smoke detector high sensitivity", typ: alarmcode.Unknown}, true
	case "386":
		return codeInfo{name: "Smoke detector low sensitivity", typ: alarmcode.Unknown}, true
	case "387":
		return codeInfo{name: "Intrusion detector high sensitivity", typ: alarmcode.Unknown}, true
	case "388":
		return codeInfo{name: "Intrusion detector low sensitivity", typ: alarmcode.Unknown}, true
	case "389":
		return codeInfo{name: "Sensor self-test failure", typ: alarmcode.Unknown}, true
	case "391":
		return codeInfo{name: "Sensor watch trouble", typ: alarmcode.Unknown}, true
	case "392":
		return codeInfo{name: "Drift compensation error", typ: alarmcode.Unknown}, true
	case "393":
		return codeInfo{name: "Maintenance alert", typ: alarmcode.Unknown}, true
	case "400":
		return codeInfo{name: "Open/close", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OP", siaRestore: "CL"}, true
	case "401":
		return codeInfo{name: "Open/close by user", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OP", siaRestore: "CL"}, true
	case "402":
		return codeInfo{name: "Group open/close", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OB", siaRestore: "CB"}, true
	case "403":
		return codeInfo{name: "Automatic open/close", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OA", siaRestore: "CA"}, true
	case "404":
		return codeInfo{name: "Late to open/close", typ: alarmcode.Unknown}, true
	case "405":
		return codeInfo{name: "Deferred open/close", typ: alarmcode.Unknown}, true
	case "406":
		return codeInfo{name: "Cancel", typ: alarmcode.Unknown, byUser: true, siaNew: "OC"}, true
	case "407":
		return codeInfo{name: "Remote arm/disarm", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OQ", siaRestore: "CQ"}, true
	case "408":
		return codeInfo{name: "Quick arm", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OP", siaRestore: "CL"}, true
	case "409":
		return codeInfo{name: "Keyswitch open/close", typ: alarmcode.Unknown, openClose: true, siaNew: "OS", siaRestore: "CS"}, true
	case "411":
		return codeInfo{name: "Callback request made", typ: alarmcode.Unknown}, true
	case "412":
		return codeInfo{name: "Successful download/access", typ: alarmcode.Unknown}, true
	case "413":
		return codeInfo{name: "Unsuccessful access", typ: alarmcode.Unknown}, true
	case "414":
		return codeInfo{name: "System shutdown command received", typ: alarmcode.Unknown}, true
	case "415":
		return codeInfo{name: "Dialer shutdown command received", typ: alarmcode.Unknown}, true
	case "416":
		return codeInfo{name: "Successful upload", typ: alarmcode.Unknown}, true
	case "421":
		return codeInfo{name: "Access denied", typ: alarmcode.Unknown, byUser: true}, true
	case "422":
		return codeInfo{name: "Access report by user", typ: alarmcode.Unknown, byUser: true}, true
	case "423":
		return codeInfo{name: "Forced access", typ: alarmcode.Unknown}, true
	case "424":
		return codeInfo{name: "Egress denied", typ: alarmcode.Unknown, byUser: true}, true
	case "425":
		return codeInfo{name: "Egress granted", typ: alarmcode.Unknown, byUser: true}, true
	case "426":
		return codeInfo{name: "Access door propped open", typ: alarmcode.Unknown}, true
	case "427":
		return codeInfo{name: "Access point door status monitor trouble", typ: alarmcode.Unknown}, true
	case "428":
		return codeInfo{name: "Access point request to exit trouble", typ: alarmcode.Unknown}, true
	case "429":
		return codeInfo{name: "Access program mode entry", typ: alarmcode.Unknown, byUser: true}, true
	case "430":
		return codeInfo{name: "Access program mode exit", typ: alarmcode.Unknown, byUser: true}, true
	case "431":
		return codeInfo{name: "Access threat level change", typ: alarmcode.Unknown, byUser: true}, true
	case "432":
		return codeInfo{name: "Access relay/trigger failure", typ: alarmcode.Unknown}, true
	case "433":
		return codeInfo{name: "Access request to exit shunt", typ: alarmcode.Unknown}, true
	case "434":
		return codeInfo{name: "Access door status monitor shunt", typ: alarmcode.Unknown}, true
	case "435":
		return codeInfo{name: "Second person access", typ: alarmcode.Unknown, byUser: true}, true
	case "436":
		return codeInfo{name: "Irregular access", typ: alarmcode.Unknown, byUser: true}, true
	case "441":
		return codeInfo{name: "Armed stay", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OG", siaRestore: "CG"}, true
	case "442":
		return codeInfo{name: "Keyswitch armed stay", typ: alarmcode.Unknown, openClose: true, siaNew: "OG", siaRestore: "CG"}, true
	case "450":
		return codeInfo{name: "Exception open/close", typ: alarmcode.Unknown, byUser: true}, true
	case "451":
		return codeInfo{name: "Early open/close", typ: alarmcode.Unknown, byUser: true}, true
	case "452":
		return codeInfo{name: "Late open/close", typ: alarmcode.Unknown, byUser: true}, true
	case "453":
		return codeInfo{name: "Failed to open", typ: alarmcode.Unknown}, true
	case "454":
		return codeInfo{name: "Failed to close", typ: alarmcode.Unknown}, true
	case "455":
		return codeInfo{name: "Auto-arm failed", typ: alarmcode.Unknown}, true
	case "456":
		return codeInfo{name: "Partial arm", typ: alarmcode.Unknown, openClose: true, byUser: true, siaNew: "OG", siaRestore: "CG"}, true
	case "457":
		return codeInfo{name: "Exit error", typ: alarmcode.Unknown, byUser: true}, true
	case "458":
		return codeInfo{name: "User on premises", typ: alarmcode.Unknown, byUser: true}, true
	case "459":
		return codeInfo{name: "Recent close", typ: alarmcode.Unknown, byUser: true}, true
	case "461":
		return codeInfo{name: "Wrong code entry", typ: alarmcode.Unknown}, true
	case "462":
		return codeInfo{name: "Legal code entry", typ: alarmcode.Unknown, byUser: true}, true
	case "463":
		return codeInfo{name: "Re-arm after alarm", typ: alarmcode.Unknown, byUser: true}, true
	case "464":
		return codeInfo{name: "Auto-arm time extended", typ: alarmcode.Unknown, byUser: true}, true
	case "465":
		return codeInfo{name: "Panic alarm reset", typ: alarmcode.Unknown, byUser: true}, true
	case "466":
		return codeInfo{name: "Service on/off premises", typ: alarmcode.Unknown, byUser: true}, true
	case "501":
		return codeInfo{name: "Access reader disable", typ: alarmcode.Unknown}, true
	case "520":
		return codeInfo{name: "Sounder/relay disable", typ: alarmcode.Unknown}, true
	case "521":
		return codeInfo{name: "Bell 1 disable", typ: alarmcode.Unknown}, true
	case "522":
		return codeInfo{name: "Bell 2 disable", typ: alarmcode.Unknown}, true
	case "523":
		return codeInfo{name: "Alarm relay disable", typ: alarmcode.Unknown}, true
	case "524":
		return codeInfo{name: "Trouble relay disable", typ: alarmcode.Unknown}, true
	case "525":
		return codeInfo{name: "Reversing relay disable", typ: alarmcode.Unknown}, true
	case "526":
		return codeInfo{name: "Notification appliance circuit 3 disable", typ: alarmcode.Unknown}, true
	case "527":
		return codeInfo{name: "Notification appliance circuit 4 disable", typ: alarmcode.Unknown}, true
	case "531":
		return codeInfo{name: "Module added", typ: alarmcode.Unknown}, true
	case "532":
		return codeInfo{name: "Module removed", typ: alarmcode.Unknown}, true
	case "551":
		return codeInfo{name: "Dialer disabled", typ: alarmcode.Unknown}, true
	case "552":
		return codeInfo{name: "Radio transmitter disabled", typ: alarmcode.Unknown}, true
	case "553":
		return codeInfo{name: "Remote upload/download disabled", typ: alarmcode.Unknown}, true
	case "570":
		return codeInfo{name: "Zone/sensor bypass", typ: alarmcode.Unknown, siaNew: "BB", siaRestore: "BU"}, true
	case "571":
		return codeInfo{name: "Fire bypass", typ: alarmcode.Unknown, siaNew: "FB", siaRestore: "FU"}, true
	case "572":
		return codeInfo{name: "24-hour zone bypass", typ: alarmcode.Unknown}, true
	case "573":
		return codeInfo{name: "Burglary bypass", typ: alarmcode.Unknown, siaNew: "BB", siaRestore: "BU"}, true
	case "574":
		return codeInfo{name: "Group bypass", typ: alarmcode.Unknown, byUser: true}, true
	case "575":
		return codeInfo{name: "Swinger bypass", typ: alarmcode.Unknown}, true
	case "576":
		return codeInfo{name: "Access zone shunt", typ: alarmcode.Unknown}, true
	case "577":
		return codeInfo{name: "Access point bypass", typ: alarmcode.Unknown}, true
	case "578":
		return codeInfo{name: "Vault bypass", typ: alarmcode.Unknown}, true
	case "579":
		return codeInfo{name: "Vent zone bypass", typ: alarmcode.Unknown}, true
	case "601":
		return codeInfo{name: "Manual trigger test", typ: alarmcode.PeriodicTest, byUser: true, siaNew: "RX"}, true
	case "602":
		return codeInfo{name: "Periodic test report", typ: alarmcode.PeriodicTest, siaNew: "RP"}, true
	case "603":
		return codeInfo{name: "Periodic RF transmission", typ: alarmcode.Unknown}, true
	case "604":
		return codeInfo{name: "Fire test", typ: alarmcode.Unknown, siaNew: "FX"}, true
	case "605":
		return codeInfo{name: "Status report to follow", typ: alarmcode.Unknown}, true
	case "606":
		return codeInfo{name: "Listen-in to follow", typ: alarmcode.Unknown}, true
	case "607":
		return codeInfo{name: "Walk test mode", typ: alarmcode.Unknown, byUser: true, siaNew: "TS", siaRestore: "TE"}, true
	case "608":
		return codeInfo{name: "Periodic test, system trouble present", typ: alarmcode.PeriodicTest, siaNew: "RY"}, true
	case "609":
		return codeInfo{name: "Video transmitter active", typ: alarmcode.Unknown}, true
	case "611":
		return codeInfo{name: "Point tested OK", typ: alarmcode.Unknown, siaNew: "TP"}, true
	case "612":
		return codeInfo{name: "Point not tested", typ: alarmcode.Unknown}, true
	case "613":
		return codeInfo{name: "Intrusion zone walk tested", typ: alarmcode.Unknown}, true
	case "614":
		return codeInfo{name: "Fire zone walk tested", typ: alarmcode.Unknown}, true
	case "615":
		return codeInfo{name: "Panic zone walk tested", typ: alarmcode.Unknown}, true
	case "616":
		return codeInfo{name: "Service request", typ: alarmcode.Unknown}, true
	case "621":
		return codeInfo{name: "Event log reset", typ: alarmcode.Unknown}, true
	case "622":
		return codeInfo{name: "Event log 50% full", typ: alarmcode.Unknown}, true
	case "623":
		return codeInfo{name: "Event log 90% full", typ: alarmcode.Unknown}, true
	case "624":
		return codeInfo{name: "Event log overflow", typ: alarmcode.Unknown}, true
	case "625":
		return codeInfo{name: "Time/date reset", typ: alarmcode.Unknown, byUser: true}, true
	case "626":
		return codeInfo{name: "Time/date inaccurate", typ: alarmcode.Unknown}, true
	case "627":
		return codeInfo{name: "Program mode entry", typ: alarmcode.Unknown, siaNew: "LB"}, true
	case "628":
		return codeInfo{name: "Program mode exit", typ: alarmcode.Unknown, siaNew: "LX"}, true
	case "630":
		return codeInfo{name: "Schedule change", typ: alarmcode.Unknown}, true
	case "631":
		return codeInfo{name: "Exception schedule change", typ: alarmcode.Unknown}, true
	case "632":
		return codeInfo{name: "Access schedule change", typ: alarmcode.Unknown}, true
	case "641":
		return codeInfo{name: "Senior watch trouble", typ: alarmcode.Unknown}, true
	case "642":
		return codeInfo{name: "Latch-key supervision", typ: alarmcode.Unknown, byUser: true}, true
	case "651":
		return codeInfo{name: "Reserved for dealer use", typ: alarmcode.Unknown}, true
	case "654":
		return codeInfo{name: "System inactivity", typ: alarmcode.Unknown}, true
	case "900":
		return codeInfo{name: "Download abort", typ: alarmcode.Unknown}, true
	case "901":
		return codeInfo{name: "Download start/end", typ: alarmcode.Unknown}, true
	case "902":
		return codeInfo{name: "Download interrupted", typ: alarmcode.Unknown}, true
	case "910":
		return codeInfo{name: "Auto-close with bypass", typ: alarmcode.Unknown}, true
	case "911":
		return codeInfo{name: "Bypass closing", typ: alarmcode.Unknown}, true
	case "912":
		return codeInfo{name: "Fire alarm silenced", typ: alarmcode.Unknown}, true
	case "913":
		return codeInfo{name: "Supervisory point test start/end", typ: alarmcode.Unknown, byUser: true}, true
	case "914":
		return codeInfo{name: "Hold-up test start/end", typ: alarmcode.Unknown, byUser: true}, true
	case "915":
		return codeInfo{name: "Burglary test print start/end", typ: alarmcode.Unknown}, true
	case "916":
		return codeInfo{name: "Supervisory test print start/end", typ: alarmcode.Unknown}, true
	case "917":
		return codeInfo{name: "Burglary diagnostics start/end", typ: alarmcode.Unknown}, true
	case "918":
		return codeInfo{name: "Fire diagnostics start/end", typ: alarmcode.Unknown}, true
	case "919":
		return codeInfo{name: "Untyped diagnostics", typ: alarmcode.Unknown}, true
	case "920":
		return codeInfo{name: "Trouble closing", typ: alarmcode.Unknown}, true
	case "921":
		return codeInfo{name: "Access denied, code unknown", typ: alarmcode.Unknown}, true
	case "922":
		return codeInfo{name: "Supervisory point alarm", typ: alarmcode.Unknown}, true
	case "923":
		return codeInfo{name: "Supervisory point bypass", typ: alarmcode.Unknown}, true
	case "924":
		return codeInfo{name: "Supervisory point trouble", typ: alarmcode.Unknown}, true
	case "925":
		return codeInfo{name: "Hold-up point bypass", typ: alarmcode.Unknown}, true
	case "926":
		return codeInfo{name: "AC failure for 4 hours", typ: alarmcode.Unknown}, true
	case "927":
		return codeInfo{name: "Output trouble", typ: alarmcode.Unknown}, true
	case "928":
		return codeInfo{name: "User code for event", typ: alarmcode.Unknown, byUser: true}, true
	case "929":
		return codeInfo{name: "Log-off", typ: alarmcode.Unknown, byUser: true}, true
	case "954":
		return codeInfo{name: "CS connection failure", typ: alarmcode.Unknown}, true
	case "961":
		return codeInfo{name: "Receiver database connection failure/restore", typ: alarmcode.Unknown}, true
	case "962":
		return codeInfo{name: "License expiration notify", typ: alarmcode.Unknown}, true
	case "999":
		return codeInfo{name: "1 and 1/3 day no read log", typ: alarmcode.Unknown}, true
	}
	return codeInfo{typ: alarmcode.Unknown}, false
}
