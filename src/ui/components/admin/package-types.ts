/**
 * The package types Arca serves with their client's own protocol and metadata: the only ones
 * the New-repository form offers (test/http/admin-ui-api.test.ts checks the list against the
 * format handlers). The seed's API accepts more (ivy, nuget, conan…), which Arca would store as
 * plain files; an existing repository of such a type still opens and edits.
 */
export const SERVED_TYPES = ['generic', 'maven', 'gradle', 'npm', 'pypi', 'docker', 'go', 'cargo', 'gems', 'helm', 'debian', 'rpm'] as const;

/** Aliases the handlers also answer for, not offered separately (the seed's older names). */
export const TYPE_ALIASES: Record<string, string> = { oci: 'docker', yum: 'rpm' };

/** What each package type is, for the form's option labels and the list's badges. */
export const TYPE_LABELS: Record<string, string> = {
  generic: 'Generic (any files)',
  maven: 'Maven',
  gradle: 'Gradle (Maven layout)',
  npm: 'npm',
  pypi: 'PyPI',
  docker: 'Docker / OCI',
  go: 'Go modules',
  cargo: 'Cargo (Rust)',
  gems: 'RubyGems',
  helm: 'Helm charts',
  debian: 'Debian (APT)',
  rpm: 'RPM (YUM/DNF)',
};

/** The Maven-layout types: releases/snapshots handling and POM checks apply. */
export const MAVENISH = ['maven', 'gradle', 'ivy', 'sbt'];
