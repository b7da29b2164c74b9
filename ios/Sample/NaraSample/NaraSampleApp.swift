import Nara
import SwiftUI

/// The sample app: capture a blood pressure, see it triaged, follow the 30-day trend.
@main
struct NaraSampleApp: App {
    @State private var model = AppModel()

    init() {
        // Once per process, before the store opens: the core's runtime and its logs in
        // Console.app. (Fails harmlessly if something created the runtime already.)
        try? initPlatform(runtimeMode: .full, logLevel: .info, logSink: OSLogSink())
    }

    var body: some Scene {
        WindowGroup {
            RootView()
                .environment(model)
                .task { await model.start() }
        }
    }
}

/// Tabs once the store is open; a message when it cannot be opened.
struct RootView: View {
    @Environment(AppModel.self) private var model

    var body: some View {
        switch model.state {
        case .opening:
            ProgressView("Öppnar…")
        case .failed(let message):
            ContentUnavailableView("Nära kan inte öppnas", systemImage: "lock", description: Text(message))
        case .ready:
            TabView {
                NavigationStack { ReadingsView() }
                    .tabItem { Label("Mätvärden", systemImage: "list.bullet") }
                NavigationStack { TrendView() }
                    .tabItem { Label("30 dagar", systemImage: "chart.xyaxis.line") }
            }
        }
    }
}
