package web

import "net/http"

// routes is the whole route table.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /healthz", s.public(s.healthz))
	mux.Handle("GET /readyz", s.public(s.readyz))
	mux.Handle("GET /api/v1/openapi.json", s.public(s.openapi))

	mux.Handle("POST /api/v1/session", s.public(s.login))
	mux.Handle("DELETE /api/v1/session", s.signedIn(s.logout))
	mux.Handle("GET /api/v1/me", s.signedIn(s.me))
	mux.Handle("POST /api/v1/tokens", s.signedIn(s.createToken))
	mux.Handle("GET /api/v1/tokens", s.signedIn(listForPerson(s.Auth.ListAPITokens)))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.signedIn(s.revokeToken))
	mux.Handle("GET /api/v1/users", s.signedIn(s.listUsers))
	mux.Handle("POST /api/v1/users", s.signedIn(s.createUser))
	mux.Handle("POST /api/v1/users/{login}/disable", s.signedIn(s.setDisabled(true)))
	mux.Handle("POST /api/v1/users/{login}/enable", s.signedIn(s.setDisabled(false)))
	mux.Handle("GET /api/v1/audit/verify", s.signedIn(s.verifyAudit))
	mux.Handle("GET /api/v1/audit", s.signedIn(s.listAudit))

	mux.Handle("GET /api/v1/regions", s.signedIn(s.listRegions))
	mux.Handle("GET /api/v1/regions/{code}/districts", s.signedIn(s.listDistricts))

	mux.Handle("GET /api/v1/schools", s.signedIn(s.listSchools))
	mux.Handle("POST /api/v1/schools", s.signedIn(bodyForPerson(http.StatusCreated, s.Registry.CreateSchool)))
	mux.Handle("GET /api/v1/schools/{id}", s.signedIn(byID(s.Registry.School)))
	mux.Handle("GET /api/v1/schools/{id}/compliance", s.signedIn(byID(s.Registry.Compliance)))
	mux.Handle("GET /api/v1/schools/{id}/pupils", s.signedIn(s.listPupils))
	mux.Handle("POST /api/v1/schools/{id}/pupils", s.signedIn(bodyByID(http.StatusCreated, s.Registry.CreatePupil)))
	mux.Handle("GET /api/v1/schools/{id}/staff", s.signedIn(listByID(s.Registry.ListStaff)))
	mux.Handle("POST /api/v1/schools/{id}/staff", s.signedIn(bodyByID(http.StatusCreated, s.Registry.CreateStaff)))
	mux.Handle("GET /api/v1/schools/{id}/devices", s.signedIn(listByID(s.Registry.ListDevices)))
	mux.Handle("POST /api/v1/schools/{id}/devices", s.signedIn(bodyByID(http.StatusCreated, s.Registry.CreateDevice)))
	mux.Handle("GET /api/v1/schools/{id}/contracts", s.signedIn(listByID(s.Registry.ContractsOfSchool)))
	mux.Handle("POST /api/v1/devices/{id}/credential", s.signedIn(s.issueDeviceCredential))

	mux.Handle("GET /api/v1/pupils/{id}", s.signedIn(byID(s.Registry.Pupil)))
	mux.Handle("PUT /api/v1/pupils/{id}", s.signedIn(bodyByID(http.StatusOK, s.Registry.UpdatePupil)))
	mux.Handle("DELETE /api/v1/pupils/{id}", s.signedIn(byID(s.Registry.ErasePupil)))
	mux.Handle("GET /api/v1/pupils/{id}/export", s.signedIn(s.exportPupil))
	mux.Handle("GET /api/v1/pupils/{id}/access-log", s.signedIn(listByID(s.Registry.PupilAccessLog)))
	mux.Handle("GET /api/v1/children", s.signedIn(s.children))
	mux.Handle("GET /api/v1/me/channels", s.signedIn(forPerson(s.Registry.MyChannels)))
	mux.Handle("PUT /api/v1/me/channels", s.signedIn(bodyForPerson(http.StatusOK, s.Registry.SetMyChannels)))
	mux.Handle("DELETE /api/v1/me/consent", s.signedIn(s.withdrawConsent))

	mux.Handle("GET /api/v1/providers", s.signedIn(listForPerson(s.Registry.ListProviders)))
	mux.Handle("POST /api/v1/providers", s.signedIn(bodyForPerson(http.StatusCreated, s.Registry.CreateProvider)))
	mux.Handle("POST /api/v1/contracts", s.signedIn(s.createContract))
	mux.Handle("GET /api/v1/police-units", s.signedIn(listForPerson(s.Registry.ListPoliceUnits)))
	mux.Handle("POST /api/v1/police-units", s.signedIn(s.createPoliceUnit))

	mux.Handle("POST /api/v1/imports", s.signedIn(s.startImport))
	mux.Handle("GET /api/v1/imports/{id}", s.signedIn(s.getImport))
	mux.Handle("GET /api/v1/exports/schools", s.signedIn(s.exportSchools))
	mux.Handle("GET /api/v1/schools/{id}/pupils/export", s.signedIn(s.exportPupils))

	mux.Handle("GET /api/v1/alarms", s.signedIn(s.listAlarms))
	mux.Handle("GET /api/v1/alarms/stats", s.signedIn(s.alarmStats))
	mux.Handle("GET /api/v1/alarms/{id}", s.signedIn(s.getAlarm))
	mux.Handle("POST /api/v1/alarms/{id}/{step}", s.signedIn(s.alarmStep))
	mux.Handle("POST /api/v1/schools/{id}/panic", s.signedIn(s.staffPanic))
	mux.Handle("GET /api/v1/live", s.signedIn(s.live))
	mux.Handle("POST /api/v1/device/events", s.asDevice(s.deviceEvent))

	mux.Handle("POST /api/v1/device/passes", s.asDevice(s.devicePasses))
	mux.Handle("POST /api/v1/schools/{id}/passes/manual", s.signedIn(s.manualPass))
	mux.Handle("GET /api/v1/schools/{id}/rollcall", s.signedIn(s.rollCall))
	mux.Handle("GET /api/v1/schools/{id}/notifications", s.signedIn(s.notifications))
	mux.Handle("GET /api/v1/schools/{id}/not-arrived-rule", s.signedIn(byID(s.Access.NotArrivedRule)))
	mux.Handle("PUT /api/v1/schools/{id}/not-arrived-rule", s.signedIn(bodyByID(http.StatusOK, s.Access.SetNotArrivedRule)))

	mux.Handle("/api/", s.public(s.notFound))

	// The console: pages for people, beside the API and over the same
	// domain calls and scopes (pages.go).
	mux.Handle("GET /{$}", s.public(s.signInPage))
	mux.Handle("POST /{$}", s.public(s.signIn))
	mux.Handle("POST /signout", s.public(s.signOut))
	mux.Handle("POST /language", s.public(s.setLanguage))
	mux.Handle("GET /static/{file}", s.public(s.staticFile))
	mux.Handle("GET /home", s.page(s.home))
	mux.Handle("GET /console", s.page(s.console))
	mux.Handle("GET /alarms/{id}", s.page(s.alarmPage))
	mux.Handle("POST /alarms/{id}/acknowledge", s.page(s.acknowledgePage))
	mux.Handle("/", s.page(s.notFoundPage))

	// Emergency mode (internal/emergency): declared, confirmed, changed and
	// ended; the roll-call and its marks; reunification; the panic alarms'
	// proposals; drills.
	mux.Handle("POST /api/v1/emergencies", s.signedIn(s.declareEmergency))
	mux.Handle("GET /api/v1/emergencies/{id}", s.signedIn(byID(s.Emergency.Get)))
	mux.Handle("POST /api/v1/emergencies/{id}/{action}", s.signedIn(s.emergencyAction))
	mux.Handle("GET /api/v1/emergencies/{id}/rollcall", s.signedIn(byID(s.Emergency.Unaccounted)))
	mux.Handle("POST /api/v1/emergencies/{id}/marks", s.signedIn(s.markEmergency))
	mux.Handle("GET /api/v1/emergencies/{id}/report", s.signedIn(byID(s.Emergency.Report)))
	mux.Handle("GET /api/v1/emergencies/{id}/reunions", s.signedIn(listByID(s.Emergency.Reunions)))
	mux.Handle("POST /api/v1/emergencies/{id}/reunions", s.signedIn(s.checkIn))
	mux.Handle("POST /api/v1/emergencies/{id}/reunions/{reunion}/{action}", s.signedIn(s.reunionAction))
	mux.Handle("GET /api/v1/emergency-proposals", s.signedIn(listForPerson(s.Emergency.Proposals)))
	mux.Handle("POST /api/v1/emergency-proposals/{id}", s.signedIn(s.confirmProposal))
	mux.Handle("GET /api/v1/me/reunions", s.signedIn(listForPerson(s.Emergency.MyReunions)))
	mux.Handle("GET /api/v1/schools/{id}/drills", s.signedIn(s.drills))
	mux.Handle("GET /api/v1/emergency-staff/checklist", s.staffCode(nil, s.staffChecklist))
	mux.Handle("POST /api/v1/emergency-staff/checklist/{step}", s.staffCode(nil, s.staffTick))
	mux.Handle("POST /api/v1/emergency-staff/marks", s.staffMarks())
	mux.Handle("POST /api/v1/emergency-staff/secured", s.staffCode(nil, s.staffSecured))
	mux.Handle("PUT /api/v1/staff/{id}/homeroom", s.signedIn(s.setHomeroom))
	mux.Handle("PUT /api/v1/guardians/{id}/id-document", s.signedIn(s.setIDDocument))
	mux.Handle("POST /api/v1/pupils/{id}/court-orders", s.signedIn(s.addCourtOrder))
	mux.Handle("PUT /api/v1/schools/{id}/drill-plan", s.signedIn(s.setDrillPlan))
	mux.Handle("POST /api/v1/schools/{id}/briefings", s.signedIn(s.recordBriefing))
}
