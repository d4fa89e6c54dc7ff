#!/usr/bin/perl
# Score every DIR/*.eml with SpamAssassin, locally: the rules shipped in
# Debian's spamassassin package, no network tests (no DNSBL, Razor, Pyzor),
# no Bayes and no auto-welcomelist, so the score depends only on the message.
#
#   perl tests/deliver/spamcheck.pl DIR
#
# One process loads the rules once (a few seconds) and checks all messages,
# instead of one `spamassassin -L -t` per message.  Prints each message's score
# and the rules that fired, then "deliver-spam: N passed, N failed"; a message
# passes when it scores at most 0.0.  Exit 1 when any failed.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Mail::SpamAssassin;

my $dir = shift or die "usage: spamcheck.pl DIR\n";
my $max = 0.0;
my $state = tempdir(CLEANUP => 1);

my $sa = Mail::SpamAssassin->new({
    local_tests_only   => 1,
    dont_copy_prefs    => 1,
    userstate_dir      => $state,
    userprefs_filename => "$state/user_prefs",
    post_config_text   => "use_bayes 0\nuse_auto_whitelist 0\nuse_auto_welcomelist 0\n",
});
$sa->compile_now(0);

opendir(my $dh, $dir) or die "spamcheck: $dir: $!\n";
my @files = sort grep { /\.eml$/ } readdir($dh);
closedir($dh);

my ($passed, $failed) = (0, 0);
for my $name (@files) {
    open(my $fh, '<:raw', "$dir/$name") or die "spamcheck: $dir/$name: $!\n";
    my $raw = do { local $/; <$fh> };
    close($fh);
    my $mail = $sa->parse($raw);
    my $status = $sa->check($mail);
    my $score = $status->get_score();
    my $rules = $status->get_names_of_tests_hit_with_scores();
    my $ok = $score <= $max;
    printf "deliver-spam: %-32s %5.1f %s %s\n", $name, $score, $ok ? "ok  " : "FAIL", $rules;
    $ok ? $passed++ : $failed++;
    $status->finish();
    $mail->finish();
}
$failed++ unless @files;
print "checks deliver-spam: $passed messages passed, $failed failed\n";
exit($failed ? 1 : 0);
