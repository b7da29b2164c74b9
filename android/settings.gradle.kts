// Nära's Android shell: the `nara` library (Kotlin facade over the UniFFI bindings,
// Keystore key provider, Logcat sink, WorkManager sync) and the `sample` Compose app.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "nara-android"
include(":nara", ":sample")
