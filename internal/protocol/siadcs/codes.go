package siadcs

import "qorgan/internal/protocol/alarmcode"

// addressKind says what the number after a code means.
type addressKind byte

const (
	addrZone addressKind = iota
	addrUser
	addrArea
	// addrDevice is a door, relay, expander or line number; Qorgan shows it
	// as the zone because it locates the event on site.
	addrDevice
	// addrNone codes carry no meaningful number.
	addrNone
)

// codeInfo is what Qorgan knows about one two-letter code.
type codeInfo struct {
	name string
	addr addressKind
	typ  alarmcode.Type
	// restores is the condition a restore code ends; set only with
	// typ == alarmcode.Restore.
	restores alarmcode.Type
}

// lookup is a switch rather than a map so the table cannot be changed at
// run time. Codes and names follow the SIA DC-03 event list, including the
// Ajax additions seen in the field.
func lookup(code string) (codeInfo, bool) {
	switch code {
	case "AA":
		return codeInfo{name: "Alarm - panel substitution", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "AB":
		return codeInfo{name: "Abort", addr: addrZone, typ: alarmcode.Unknown}, true
	case "AF":
		return codeInfo{name: "Arming scenario", addr: addrZone, typ: alarmcode.Unknown}, true
	case "AN":
		return codeInfo{name: "Analog restoral", addr: addrZone, typ: alarmcode.Unknown}, true
	case "AR":
		return codeInfo{name: "AC restoral", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.ACLoss}, true
	case "AS":
		return codeInfo{name: "Analog service", addr: addrZone, typ: alarmcode.Unknown}, true
	case "AT":
		return codeInfo{name: "AC trouble", addr: addrNone, typ: alarmcode.ACLoss}, true
	case "BA":
		return codeInfo{name: "Burglary alarm", addr: addrZone, typ: alarmcode.Burglary}, true
	case "BB":
		return codeInfo{name: "Burglary bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BC":
		return codeInfo{name: "Burglary cancel", addr: addrUser, typ: alarmcode.Unknown}, true
	case "BD":
		return codeInfo{name: "Swinger trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BE":
		return codeInfo{name: "Swinger trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "BG":
		return codeInfo{name: "Unverified event - burglary", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BH":
		return codeInfo{name: "Burglary alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Burglary}, true
	case "BJ":
		return codeInfo{name: "Burglary trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "BM":
		return codeInfo{name: "Burglary alarm - cross point", addr: addrZone, typ: alarmcode.Burglary}, true
	case "BR":
		return codeInfo{name: "Burglary restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Burglary}, true
	case "BS":
		return codeInfo{name: "Burglary supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BT":
		return codeInfo{name: "Burglary trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BU":
		return codeInfo{name: "Burglary unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BV":
		return codeInfo{name: "Burglary verified", addr: addrArea, typ: alarmcode.Unknown}, true
	case "BX":
		return codeInfo{name: "Burglary test", addr: addrZone, typ: alarmcode.Unknown}, true
	case "BZ":
		return codeInfo{name: "Missing supervision", addr: addrZone, typ: alarmcode.Unknown}, true
	case "CA":
		return codeInfo{name: "Automatic closing", addr: addrArea, typ: alarmcode.Closing}, true
	case "CB":
		return codeInfo{name: "Group closed automatically", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CC":
		return codeInfo{name: "Unsuccessful arming attempt", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CD":
		return codeInfo{name: "Closing delinquent", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CE":
		return codeInfo{name: "Closing extend", addr: addrUser, typ: alarmcode.Unknown}, true
	case "CF":
		return codeInfo{name: "Forced closing", addr: addrUser, typ: alarmcode.Closing}, true
	case "CG":
		return codeInfo{name: "Close area", addr: addrArea, typ: alarmcode.Closing}, true
	case "CI":
		return codeInfo{name: "Fail to close", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CJ":
		return codeInfo{name: "Late close", addr: addrUser, typ: alarmcode.Closing}, true
	case "CK":
		return codeInfo{name: "Early close", addr: addrUser, typ: alarmcode.Closing}, true
	case "CL":
		return codeInfo{name: "Closing report", addr: addrUser, typ: alarmcode.Closing}, true
	case "CM":
		return codeInfo{name: "Missing alarm - recent closing", addr: addrZone, typ: alarmcode.Unknown}, true
	case "CO":
		return codeInfo{name: "Command sent", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "CP":
		return codeInfo{name: "Automatic closing", addr: addrUser, typ: alarmcode.Closing}, true
	case "CQ":
		return codeInfo{name: "Remote closing", addr: addrUser, typ: alarmcode.Closing}, true
	case "CR":
		return codeInfo{name: "Recent closing", addr: addrUser, typ: alarmcode.Unknown}, true
	case "CS":
		return codeInfo{name: "Closing keyswitch", addr: addrZone, typ: alarmcode.Closing}, true
	case "CT":
		return codeInfo{name: "Late to open", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CW":
		return codeInfo{name: "Was force armed", addr: addrArea, typ: alarmcode.Unknown}, true
	case "CX":
		return codeInfo{name: "Custom function executed", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "CZ":
		return codeInfo{name: "Point closing", addr: addrZone, typ: alarmcode.Unknown}, true
	case "DA":
		return codeInfo{name: "Card assigned", addr: addrUser, typ: alarmcode.Unknown}, true
	case "DB":
		return codeInfo{name: "Card deleted", addr: addrUser, typ: alarmcode.Unknown}, true
	case "DC":
		return codeInfo{name: "Access closed", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DD":
		return codeInfo{name: "Access denied", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DE":
		return codeInfo{name: "Request to enter", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DF":
		return codeInfo{name: "Door forced", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DG":
		return codeInfo{name: "Access granted", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DH":
		return codeInfo{name: "Door left open - restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "DI":
		return codeInfo{name: "Access denied - passback", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DJ":
		return codeInfo{name: "Door forced - trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DK":
		return codeInfo{name: "Access lockout", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DL":
		return codeInfo{name: "Door left open - alarm", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DM":
		return codeInfo{name: "Door left open - trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DN":
		return codeInfo{name: "Door left open", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DO":
		return codeInfo{name: "Access open", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DP":
		return codeInfo{name: "Access denied - unauthorized time", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DQ":
		return codeInfo{name: "Access denied - unauthorized arming state", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DR":
		return codeInfo{name: "Door restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "DS":
		return codeInfo{name: "Door station", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DT":
		return codeInfo{name: "Access trouble", addr: addrNone, typ: alarmcode.Unknown}, true
	case "DU":
		return codeInfo{name: "Dealer ID", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DV":
		return codeInfo{name: "Access denied - unauthorized entry level", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DW":
		return codeInfo{name: "Access denied - interlock", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DX":
		return codeInfo{name: "Request to exit", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DY":
		return codeInfo{name: "Door locked", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "DZ":
		return codeInfo{name: "Access denied - door secured", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "EA":
		return codeInfo{name: "Exit alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "EE":
		return codeInfo{name: "Exit error", addr: addrUser, typ: alarmcode.Unknown}, true
	case "EJ":
		return codeInfo{name: "Expansion tamper restore", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "EM":
		return codeInfo{name: "Expansion device missing", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "EN":
		return codeInfo{name: "Expansion missing restore", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "ER":
		return codeInfo{name: "Expansion restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "ES":
		return codeInfo{name: "Expansion device tamper", addr: addrDevice, typ: alarmcode.Tamper}, true
	case "ET":
		return codeInfo{name: "Expansion trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "EX":
		return codeInfo{name: "External device condition", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "EZ":
		return codeInfo{name: "Missing alarm - exit error", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FA":
		return codeInfo{name: "Fire alarm", addr: addrZone, typ: alarmcode.Fire}, true
	case "FB":
		return codeInfo{name: "Fire bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FC":
		return codeInfo{name: "Fire cancel", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FG":
		return codeInfo{name: "Unverified event - fire", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FH":
		return codeInfo{name: "Fire alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "FI":
		return codeInfo{name: "Fire test begin", addr: addrArea, typ: alarmcode.Unknown}, true
	case "FJ":
		return codeInfo{name: "Fire trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "FK":
		return codeInfo{name: "Fire test end", addr: addrArea, typ: alarmcode.Unknown}, true
	case "FL":
		return codeInfo{name: "Fire alarm silenced", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FM":
		return codeInfo{name: "Fire alarm - cross point", addr: addrZone, typ: alarmcode.Fire}, true
	case "FQ":
		return codeInfo{name: "Fire supervisory trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "FR":
		return codeInfo{name: "Fire restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "FS":
		return codeInfo{name: "Fire supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FT":
		return codeInfo{name: "Fire trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FU":
		return codeInfo{name: "Fire unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FV":
		return codeInfo{name: "Fire supervision restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "FW":
		return codeInfo{name: "Fire supervisory trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FX":
		return codeInfo{name: "Fire test", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FY":
		return codeInfo{name: "Missing fire trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "FZ":
		return codeInfo{name: "Missing fire supervision", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GA":
		return codeInfo{name: "Gas alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GB":
		return codeInfo{name: "Gas bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GH":
		return codeInfo{name: "Gas alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "GJ":
		return codeInfo{name: "Gas trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "GR":
		return codeInfo{name: "Gas restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "GS":
		return codeInfo{name: "Gas supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GT":
		return codeInfo{name: "Gas trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GU":
		return codeInfo{name: "Gas unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "GX":
		return codeInfo{name: "Gas test", addr: addrZone, typ: alarmcode.Unknown}, true
	case "HA":
		return codeInfo{name: "Holdup alarm", addr: addrZone, typ: alarmcode.Holdup}, true
	case "HB":
		return codeInfo{name: "Holdup bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "HH":
		return codeInfo{name: "Holdup alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Holdup}, true
	case "HJ":
		return codeInfo{name: "Holdup trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "HR":
		return codeInfo{name: "Holdup restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Holdup}, true
	case "HS":
		return codeInfo{name: "Holdup supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "HT":
		return codeInfo{name: "Holdup trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "HU":
		return codeInfo{name: "Holdup unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "IA":
		return codeInfo{name: "Equipment failure condition", addr: addrZone, typ: alarmcode.Unknown}, true
	case "IR":
		return codeInfo{name: "Equipment fail - restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "JA":
		return codeInfo{name: "User code tamper", addr: addrArea, typ: alarmcode.Tamper}, true
	case "JC":
		return codeInfo{name: "User code tamper cancelled", addr: addrArea, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "JD":
		return codeInfo{name: "Date changed", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JH":
		return codeInfo{name: "Holiday changed", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JK":
		return codeInfo{name: "Latchkey alert", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JL":
		return codeInfo{name: "Log threshold", addr: addrNone, typ: alarmcode.Unknown}, true
	case "JO":
		return codeInfo{name: "Log overflow", addr: addrNone, typ: alarmcode.Unknown}, true
	case "JP":
		return codeInfo{name: "User on premises", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JR":
		return codeInfo{name: "Schedule executed", addr: addrArea, typ: alarmcode.Unknown}, true
	case "JS":
		return codeInfo{name: "Schedule changed", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JT":
		return codeInfo{name: "Time changed", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JV":
		return codeInfo{name: "User code changed", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JX":
		return codeInfo{name: "User code deleted", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JY":
		return codeInfo{name: "User code added", addr: addrUser, typ: alarmcode.Unknown}, true
	case "JZ":
		return codeInfo{name: "User level set", addr: addrUser, typ: alarmcode.Unknown}, true
	case "KA":
		return codeInfo{name: "Heat alarm", addr: addrZone, typ: alarmcode.Fire}, true
	case "KB":
		return codeInfo{name: "Heat bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "KH":
		return codeInfo{name: "Heat alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "KJ":
		return codeInfo{name: "Heat trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "KR":
		return codeInfo{name: "Heat restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "KS":
		return codeInfo{name: "Heat supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "KT":
		return codeInfo{name: "Heat trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "KU":
		return codeInfo{name: "Heat unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "LB":
		return codeInfo{name: "Local program", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LD":
		return codeInfo{name: "Local program denied", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LE":
		return codeInfo{name: "Listen-in ended", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LF":
		return codeInfo{name: "Listen-in begin", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LR":
		return codeInfo{name: "Phone line restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.CommTrouble}, true
	case "LS":
		return codeInfo{name: "Local program success", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LT":
		return codeInfo{name: "Phone line trouble", addr: addrDevice, typ: alarmcode.CommTrouble}, true
	case "LU":
		return codeInfo{name: "Local program fail", addr: addrNone, typ: alarmcode.Unknown}, true
	case "LX":
		return codeInfo{name: "Local programming ended", addr: addrNone, typ: alarmcode.Unknown}, true
	case "MA":
		return codeInfo{name: "Medical alarm", addr: addrZone, typ: alarmcode.Medical}, true
	case "MB":
		return codeInfo{name: "Medical bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "MH":
		return codeInfo{name: "Medical alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Medical}, true
	case "MI":
		return codeInfo{name: "Message", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "MJ":
		return codeInfo{name: "Medical trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "MR":
		return codeInfo{name: "Medical restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Medical}, true
	case "MS":
		return codeInfo{name: "Medical supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "MT":
		return codeInfo{name: "Medical trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "MU":
		return codeInfo{name: "Medical unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "NA":
		return codeInfo{name: "No activity", addr: addrZone, typ: alarmcode.Unknown}, true
	case "NB":
		return codeInfo{name: "Arming scenario", addr: addrArea, typ: alarmcode.Unknown}, true
	case "NC":
		return codeInfo{name: "Network condition", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "ND":
		return codeInfo{name: "Night mode deactivated - duress", addr: addrArea, typ: alarmcode.Duress}, true
	case "NE":
		return codeInfo{name: "Unsuccessful night mode activation", addr: addrArea, typ: alarmcode.Unknown}, true
	case "NF":
		return codeInfo{name: "Forced perimeter arm", addr: addrArea, typ: alarmcode.Closing}, true
	case "NL":
		return codeInfo{name: "Perimeter armed", addr: addrArea, typ: alarmcode.Closing}, true
	case "NM":
		return codeInfo{name: "Perimeter armed, user defined", addr: addrArea, typ: alarmcode.Closing}, true
	case "NO":
		return codeInfo{name: "Night mode deactivated automatically", addr: addrArea, typ: alarmcode.Unknown}, true
	case "NP":
		return codeInfo{name: "Night mode deactivated using device", addr: addrZone, typ: alarmcode.Unknown}, true
	case "NR":
		return codeInfo{name: "Network restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.CommTrouble}, true
	case "NS":
		return codeInfo{name: "Activity resumed", addr: addrZone, typ: alarmcode.Unknown}, true
	case "NT":
		return codeInfo{name: "Network failure", addr: addrDevice, typ: alarmcode.CommTrouble}, true
	case "OA":
		return codeInfo{name: "Automatic opening", addr: addrArea, typ: alarmcode.Opening}, true
	case "OB":
		return codeInfo{name: "Group disarmed automatically", addr: addrArea, typ: alarmcode.Opening}, true
	case "OC":
		return codeInfo{name: "Cancel report", addr: addrUser, typ: alarmcode.Unknown}, true
	case "OG":
		return codeInfo{name: "Open area", addr: addrArea, typ: alarmcode.Opening}, true
	case "OH":
		return codeInfo{name: "Early to open from alarm", addr: addrUser, typ: alarmcode.Opening}, true
	case "OI":
		return codeInfo{name: "Fail to open", addr: addrArea, typ: alarmcode.Unknown}, true
	case "OJ":
		return codeInfo{name: "Late open", addr: addrUser, typ: alarmcode.Opening}, true
	case "OK":
		return codeInfo{name: "Early open", addr: addrUser, typ: alarmcode.Opening}, true
	case "OL":
		return codeInfo{name: "Late to open from alarm", addr: addrUser, typ: alarmcode.Opening}, true
	case "OP":
		return codeInfo{name: "Opening report", addr: addrUser, typ: alarmcode.Opening}, true
	case "OQ":
		return codeInfo{name: "Remote opening", addr: addrUser, typ: alarmcode.Opening}, true
	case "OR":
		return codeInfo{name: "Disarm from alarm", addr: addrUser, typ: alarmcode.Opening}, true
	case "OS":
		return codeInfo{name: "Opening keyswitch", addr: addrZone, typ: alarmcode.Opening}, true
	case "OT":
		return codeInfo{name: "Late to close", addr: addrUser, typ: alarmcode.Unknown}, true
	case "OU":
		return codeInfo{name: "Output state - trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "OV":
		return codeInfo{name: "Output state - restore", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "OZ":
		return codeInfo{name: "Point opening", addr: addrZone, typ: alarmcode.Unknown}, true
	case "PA":
		return codeInfo{name: "Panic alarm", addr: addrZone, typ: alarmcode.Panic}, true
	case "PB":
		return codeInfo{name: "Panic bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "PC":
		return codeInfo{name: "Photo on demand enabled", addr: addrUser, typ: alarmcode.Unknown}, true
	case "PD":
		return codeInfo{name: "Photo on demand disabled", addr: addrUser, typ: alarmcode.Unknown}, true
	case "PE":
		return codeInfo{name: "Photo by scenario enabled", addr: addrNone, typ: alarmcode.Unknown}, true
	case "PF":
		return codeInfo{name: "Photo channel malfunction", addr: addrZone, typ: alarmcode.Unknown}, true
	case "PG":
		return codeInfo{name: "Photo by scenario disabled", addr: addrNone, typ: alarmcode.Unknown}, true
	case "PH":
		return codeInfo{name: "Panic alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Panic}, true
	case "PJ":
		return codeInfo{name: "Panic trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "PO":
		return codeInfo{name: "Malfunction restore", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "PR":
		return codeInfo{name: "Panic restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Panic}, true
	case "PS":
		return codeInfo{name: "Panic supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "PT":
		return codeInfo{name: "Panic trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "PU":
		return codeInfo{name: "Panic unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "QA":
		return codeInfo{name: "Emergency alarm", addr: addrZone, typ: alarmcode.Panic}, true
	case "QB":
		return codeInfo{name: "Emergency bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "QH":
		return codeInfo{name: "Emergency alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Panic}, true
	case "QJ":
		return codeInfo{name: "Emergency trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "QR":
		return codeInfo{name: "Emergency restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Panic}, true
	case "QS":
		return codeInfo{name: "Emergency supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "QT":
		return codeInfo{name: "Emergency trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "QU":
		return codeInfo{name: "Emergency unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "RA":
		return codeInfo{name: "Remote programmer call failed", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RB":
		return codeInfo{name: "Remote program begin", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RC":
		return codeInfo{name: "Relay close", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "RD":
		return codeInfo{name: "Remote program denied", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RN":
		return codeInfo{name: "Remote reset", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RO":
		return codeInfo{name: "Relay open", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "RP":
		return codeInfo{name: "Automatic test", addr: addrNone, typ: alarmcode.PeriodicTest}, true
	case "RR":
		return codeInfo{name: "Power up", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RS":
		return codeInfo{name: "Remote program success", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RT":
		return codeInfo{name: "Data lost", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "RU":
		return codeInfo{name: "Remote program fail", addr: addrNone, typ: alarmcode.Unknown}, true
	case "RX":
		return codeInfo{name: "Manual test", addr: addrUser, typ: alarmcode.PeriodicTest}, true
	case "RY":
		return codeInfo{name: "Test off normal", addr: addrZone, typ: alarmcode.PeriodicTest}, true
	case "SA":
		return codeInfo{name: "Sprinkler alarm", addr: addrZone, typ: alarmcode.Fire}, true
	case "SB":
		return codeInfo{name: "Sprinkler bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "SC":
		return codeInfo{name: "Change of state", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "SH":
		return codeInfo{name: "Sprinkler alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "SJ":
		return codeInfo{name: "Sprinkler trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "SM":
		return codeInfo{name: "Leak protection malfunction", addr: addrZone, typ: alarmcode.Unknown}, true
	case "SR":
		return codeInfo{name: "Sprinkler restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Fire}, true
	case "SS":
		return codeInfo{name: "Sprinkler supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ST":
		return codeInfo{name: "Sprinkler trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "SU":
		return codeInfo{name: "Sprinkler unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "TA":
		return codeInfo{name: "Tamper alarm", addr: addrZone, typ: alarmcode.Tamper}, true
	case "TB":
		return codeInfo{name: "Tamper bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "TC":
		return codeInfo{name: "All points tested", addr: addrNone, typ: alarmcode.Unknown}, true
	case "TE":
		return codeInfo{name: "Test end", addr: addrNone, typ: alarmcode.Unknown}, true
	case "TH":
		return codeInfo{name: "Tamper alarm restore", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "TJ":
		return codeInfo{name: "Tamper trouble restore", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "TP":
		return codeInfo{name: "Walk test point", addr: addrZone, typ: alarmcode.Unknown}, true
	case "TR":
		return codeInfo{name: "Tamper restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "TS":
		return codeInfo{name: "Test start", addr: addrNone, typ: alarmcode.Unknown}, true
	case "TT":
		return codeInfo{name: "Tamper trouble", addr: addrZone, typ: alarmcode.Tamper}, true
	case "TU":
		return codeInfo{name: "Tamper unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "TW":
		return codeInfo{name: "Area watch start", addr: addrNone, typ: alarmcode.Unknown}, true
	case "TX":
		return codeInfo{name: "Test report", addr: addrNone, typ: alarmcode.PeriodicTest}, true
	case "TZ":
		return codeInfo{name: "Area watch end", addr: addrNone, typ: alarmcode.Unknown}, true
	case "UA":
		return codeInfo{name: "Untyped zone alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UB":
		return codeInfo{name: "Untyped zone bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UG":
		return codeInfo{name: "Unverified event - untyped", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UH":
		return codeInfo{name: "Untyped alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "UJ":
		return codeInfo{name: "Untyped trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "UR":
		return codeInfo{name: "Untyped zone restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "US":
		return codeInfo{name: "Untyped zone supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UT":
		return codeInfo{name: "Untyped zone trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UU":
		return codeInfo{name: "Untyped zone unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UX":
		return codeInfo{name: "Undefined alarm", addr: addrNone, typ: alarmcode.Unknown}, true
	case "UY":
		return codeInfo{name: "Untyped missing trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "UZ":
		return codeInfo{name: "Untyped missing alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "VI":
		return codeInfo{name: "Printer paper in", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "VO":
		return codeInfo{name: "Printer paper out", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "VR":
		return codeInfo{name: "Printer restore", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "VT":
		return codeInfo{name: "Printer trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "VX":
		return codeInfo{name: "Printer test", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "VY":
		return codeInfo{name: "Printer online", addr: addrNone, typ: alarmcode.Unknown}, true
	case "VZ":
		return codeInfo{name: "Printer offline", addr: addrNone, typ: alarmcode.Unknown}, true
	case "WA":
		return codeInfo{name: "Water alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "WB":
		return codeInfo{name: "Water bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "WH":
		return codeInfo{name: "Water alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "WJ":
		return codeInfo{name: "Water trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "WR":
		return codeInfo{name: "Water restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "WS":
		return codeInfo{name: "Water supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "WT":
		return codeInfo{name: "Water trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "WU":
		return codeInfo{name: "Water unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XA":
		return codeInfo{name: "Extra account report", addr: addrNone, typ: alarmcode.Unknown}, true
	case "XC":
		return codeInfo{name: "Malfunction restore", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "XE":
		return codeInfo{name: "Extra point", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XF":
		return codeInfo{name: "Extra RF point", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XH":
		return codeInfo{name: "RF interference restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "XI":
		return codeInfo{name: "Sensor reset", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XJ":
		return codeInfo{name: "RF receiver tamper restoral", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Tamper}, true
	case "XL":
		return codeInfo{name: "Low received signal strength", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "XM":
		return codeInfo{name: "Missing alarm - cross point", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XQ":
		return codeInfo{name: "RF interference", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "XR":
		return codeInfo{name: "Transmitter battery restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.LowBattery}, true
	case "XS":
		return codeInfo{name: "RF receiver tamper", addr: addrDevice, typ: alarmcode.Tamper}, true
	case "XT":
		return codeInfo{name: "Transmitter battery trouble", addr: addrZone, typ: alarmcode.LowBattery}, true
	case "XW":
		return codeInfo{name: "Forced point", addr: addrZone, typ: alarmcode.Unknown}, true
	case "XX":
		return codeInfo{name: "Fail to test", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YA":
		return codeInfo{name: "Bell fault", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YB":
		return codeInfo{name: "Busy seconds", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "YC":
		return codeInfo{name: "Communications fail", addr: addrNone, typ: alarmcode.CommTrouble}, true
	case "YD":
		return codeInfo{name: "Receiver line card trouble", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "YE":
		return codeInfo{name: "Receiver line card restored", addr: addrDevice, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "YF":
		return codeInfo{name: "Parameter checksum fail", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YG":
		return codeInfo{name: "Parameter changed", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YH":
		return codeInfo{name: "Bell restored", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "YI":
		return codeInfo{name: "Overcurrent trouble", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YJ":
		return codeInfo{name: "Overcurrent restore", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "YK":
		return codeInfo{name: "Communications restoral", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.CommTrouble}, true
	case "YM":
		return codeInfo{name: "System battery missing", addr: addrNone, typ: alarmcode.LowBattery}, true
	case "YN":
		return codeInfo{name: "Invalid report", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YO":
		return codeInfo{name: "Unknown message", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YP":
		return codeInfo{name: "Power supply trouble", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YQ":
		return codeInfo{name: "Power supply restored", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "YR":
		return codeInfo{name: "System battery restoral", addr: addrNone, typ: alarmcode.Restore, restores: alarmcode.LowBattery}, true
	case "YS":
		return codeInfo{name: "Communications trouble", addr: addrNone, typ: alarmcode.CommTrouble}, true
	case "YT":
		return codeInfo{name: "System battery trouble", addr: addrNone, typ: alarmcode.LowBattery}, true
	case "YU":
		return codeInfo{name: "Diagnostic error", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "YW":
		return codeInfo{name: "Watchdog reset", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YX":
		return codeInfo{name: "Service required", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YY":
		return codeInfo{name: "Status report", addr: addrNone, typ: alarmcode.Unknown}, true
	case "YZ":
		return codeInfo{name: "Service completed", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "ZA":
		return codeInfo{name: "Freeze alarm", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ZB":
		return codeInfo{name: "Freeze bypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ZH":
		return codeInfo{name: "Freeze alarm restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "ZJ":
		return codeInfo{name: "Freeze trouble restore", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "ZR":
		return codeInfo{name: "Freeze restoral", addr: addrZone, typ: alarmcode.Restore, restores: alarmcode.Unknown}, true
	case "ZS":
		return codeInfo{name: "Freeze supervisory", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ZT":
		return codeInfo{name: "Freeze trouble", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ZU":
		return codeInfo{name: "Freeze unbypass", addr: addrZone, typ: alarmcode.Unknown}, true
	case "ZY":
		return codeInfo{name: "Device switched on", addr: addrDevice, typ: alarmcode.Unknown}, true
	case "ZZ":
		return codeInfo{name: "Device switched off", addr: addrDevice, typ: alarmcode.Unknown}, true
	}
	return codeInfo{typ: alarmcode.Unknown}, false
}
