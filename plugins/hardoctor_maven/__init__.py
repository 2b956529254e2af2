"""Maven and Gradle: settings.xml servers, mirrors, encrypted passwords, gradle.properties."""
