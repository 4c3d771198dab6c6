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
	mux.Handle("GET /api/v1/schools/{id}/compliance", s.signedIn(byID(s.Roadmap.Compliance)))
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
	mux.Handle("GET /sw.js", s.public(s.rootFile))
	mux.Handle("GET /manifest.webmanifest", s.public(s.rootFile))
	mux.Handle("GET /icon.svg", s.public(s.rootFile))
	mux.Handle("GET /home", s.page(s.home))
	mux.Handle("GET /console", s.page(s.console))
	mux.Handle("GET /alarms/{id}", s.page(s.alarmPage))
	mux.Handle("POST /alarms/{id}/{step}", s.page(s.alarmStepPage))
	mux.Handle("GET /schools/{id}/board", s.page(s.schoolBoard))
	mux.Handle("GET /schools/{id}/rollcall", s.page(s.rollCallPage))
	mux.Handle("POST /schools/{id}/panic", s.page(s.panicPage))
	mux.Handle("GET /schools/{id}/import", s.page(s.importForm))
	mux.Handle("POST /schools/{id}/import", s.page(s.startImportPage))
	mux.Handle("GET /imports/{id}", s.page(s.importPage))
	mux.Handle("GET /family", s.page(s.family))
	mux.Handle("GET /family/children/{id}", s.page(s.childPage))
	mux.Handle("POST /family/channels", s.page(s.familyChannels))
	mux.Handle("POST /family/consent", s.page(s.familyConsent))
	mux.Handle("/", s.page(s.notFoundPage))

	// The roadmap: indicators from school to nation, a school's gap list
	// and its declaration, snapshots, targets, funding (roadmap.go).
	mux.Handle("GET /api/v1/indicators", s.signedIn(s.indicators))
	mux.Handle("GET /api/v1/schools/{id}/gaps", s.signedIn(byID(s.Roadmap.Gaps)))
	mux.Handle("PUT /api/v1/schools/{id}/declaration", s.signedIn(bodyByID(http.StatusOK, s.Roadmap.Declare)))
	mux.Handle("GET /api/v1/roadmap/rule-sets", s.signedIn(listForPerson(s.Roadmap.ListRuleSets)))
	mux.Handle("GET /api/v1/roadmap/snapshots", s.signedIn(s.snapshots))
	mux.Handle("POST /api/v1/roadmap/snapshots", s.signedIn(forPersonStatus(http.StatusCreated, s.Roadmap.TakeSnapshot)))
	mux.Handle("GET /api/v1/roadmap/targets", s.signedIn(listForPerson(s.Roadmap.Targets)))
	mux.Handle("POST /api/v1/roadmap/targets", s.signedIn(bodyForPerson(http.StatusCreated, s.Roadmap.SetTarget)))
	mux.Handle("GET /api/v1/roadmap/funding", s.signedIn(s.funding))
	mux.Handle("GET /api/v1/roadmap/documents/{kind}", s.signedIn(s.roadmapDocument))
	mux.Handle("POST /api/v1/roadmap/allocations", s.signedIn(bodyForPerson(http.StatusCreated, s.Roadmap.Allocate)))
	mux.Handle("POST /api/v1/roadmap/spending", s.signedIn(bodyForPerson(http.StatusCreated, s.Roadmap.Spend)))

	// Web Push to guardians (push.go): the key a browser subscribes with,
	// and a guardian's own subscriptions.
	mux.Handle("GET /api/v1/push/vapid-public-key", s.public(s.vapidPublicKey))
	mux.Handle("GET /api/v1/me/push-subscriptions", s.signedIn(listForPerson(s.Push.MySubscriptions)))
	mux.Handle("POST /api/v1/me/push-subscriptions", s.signedIn(bodyForPerson(http.StatusCreated, s.Push.Subscribe)))
	mux.Handle("DELETE /api/v1/me/push-subscriptions", s.signedIn(bodyForPerson(http.StatusOK, s.Push.Unsubscribe)))
}
