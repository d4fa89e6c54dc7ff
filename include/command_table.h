/*
 * The one table of mail commands, as a list of rows that each includer turns
 * into what it needs: command.h the enum of kinds, command.c the table of
 * definitions (command_defs: name, usage, arguments, proof, help line, the
 * words a confirmation mail names), programme.c the handler each member
 * command runs, managers.c the handler each manager command runs.
 * A command is declared here once; HACKING.md says what else a new one needs.
 *
 *   COMMAND_MEMBER(KIND, NUMBER, NAME, USAGE, ARGS, PROOF, HANDLER, HELP, CONFIRMS)
 *     KIND      COMMAND_KIND in enum command_kind
 *     NUMBER    its value: stored with pending changes (store_pending), so a
 *               number is never renumbered or reused
 *     NAME      lower case: the command word, command_name(), the intent
 *               tables' name (data/intents/LANG.txt) for plain-words phrases
 *     USAGE     as the help mail writes it: "PAUSE [N weeks]"
 *     ARGS      how the words after it are read (enum command_args, no prefix)
 *     PROOF     what it needs before it may act (enum command_proof, gate.h)
 *     HANDLER   int HANDLER(struct respond_ctx *c, const struct command *cmd):
 *               0 done, -1 on error (programme.c calls it)
 *     HELP      one line for the help mail, README and mentord(8)
 *     CONFIRMS  COMMAND_CONFIRMS_NOTHING, or for PROOF_REQUIRED
 *               COMMAND_CONFIRMS(key, words, key_n1, words_n1, key_n, words_n):
 *               what the confirmation mail for a claimed request names
 *               (struct command_confirm)
 *
 *   COMMAND_MANAGER(NAME, USAGE, ARGS, HANDLER, HELP)
 *     a manager's command (PROOF_MANAGER: a manager's mail, and a change
 *     proven or confirmed): NAME, USAGE, ARGS and HELP as above; HANDLER is
 *     int HANDLER(struct managers_req *r), static in managers.c, which calls
 *     it with the command as mailed and, for a change, again to carry out
 *     its canonical line once proven (see struct managers_req there).
 *
 * The order is the help mail's.  No include guard: read once per includer.
 */
COMMAND_MEMBER(JOIN, 1, "join", "JOIN", NONE, PROOF_OWN_CONFIRM, membership_join,
               "you are new and would like a mentor", COMMAND_CONFIRMS_NOTHING)
COMMAND_MEMBER(MENTOR, 2, "mentor", "MENTOR", NONE, PROOF_OWN_CONFIRM, membership_mentor,
               "you would like to volunteer as a mentor", COMMAND_CONFIRMS_NOTHING)
COMMAND_MEMBER(CONFIRM, 11, "confirm", "CONFIRM TOKEN", TOKEN, PROOF_NONE, programme_confirm,
               "confirm a request (a plain reply to our mail does the same)",
               COMMAND_CONFIRMS_NOTHING)
COMMAND_MEMBER(STATUS, 4, "status", "STATUS", NONE, PROOF_NONE, membership_status,
               "see what we know about you", COMMAND_CONFIRMS_NOTHING)
COMMAND_MEMBER(PAUSE, 5, "pause", "PAUSE [N weeks]", WEEKS, PROOF_REQUIRED, membership_pause,
               "take a break, open-ended or for a set time",
               COMMAND_CONFIRMS("do_pause", "pause", "do_pause_week", "pause for {n} week",
                                "do_pause_weeks", "pause for {n} weeks"))
COMMAND_MEMBER(RESUME, 6, "resume", "RESUME", NONE, PROOF_REQUIRED, membership_resume,
               "come back from a break",
               COMMAND_CONFIRMS("do_resume", "resume", NULL, NULL, NULL, NULL))
COMMAND_MEMBER(CAPACITY, 10, "capacity", "CAPACITY N", COUNT, PROOF_REQUIRED, membership_capacity,
               "mentors: how many newcomers you take on at once (1-20)",
               COMMAND_CONFIRMS("do_capacity", "change your capacity", "do_capacity_n",
                                "set your capacity to {n}", "do_capacity_n",
                                "set your capacity to {n}"))
COMMAND_MEMBER(ACCEPT, 12, "accept", "ACCEPT", NONE, PROOF_REQUIRED, programme_pair_command,
               "mentors: take on the newcomer we suggested (YES does the same)",
               COMMAND_CONFIRMS("do_accept", "accept the proposal to mentor a newcomer", NULL, NULL,
                                NULL, NULL))
COMMAND_MEMBER(DECLINE, 13, "decline", "DECLINE", NONE, PROOF_REQUIRED, programme_pair_command,
               "mentors: not this newcomer (NO does the same)",
               COMMAND_CONFIRMS("do_decline", "decline the proposal to mentor a newcomer", NULL,
                                NULL, NULL, NULL))
COMMAND_MEMBER(DONE, 8, "done", "DONE", NONE, PROOF_REQUIRED, programme_pair_command,
               "end your pairing early",
               COMMAND_CONFIRMS("do_done", "end your current pairing", NULL, NULL, NULL, NULL))
COMMAND_MEMBER(REMATCH, 9, "rematch", "REMATCH", NONE, PROOF_REQUIRED, programme_pair_command,
               "newcomers: ask for another mentor",
               COMMAND_CONFIRMS("do_rematch", "end your current pairing and be matched again", NULL,
                                NULL, NULL, NULL))
COMMAND_MEMBER(LEAVE, 7, "leave", "LEAVE", NONE, PROOF_OWN_CONFIRM, membership_leave,
               "stop taking part and have your details removed", COMMAND_CONFIRMS_NOTHING)
COMMAND_MEMBER(HELP, 3, "help", "HELP", NONE, PROOF_NONE, programme_help_command,
               "get this message again", COMMAND_CONFIRMS_NOTHING)
COMMAND_MANAGER("report", "REPORT", NONE, managers_report, "managers: the digest, now")
COMMAND_MANAGER("list", "LIST [STATE]", WORDS, managers_list,
                "managers: members, waiting newcomers or pairs")
COMMAND_MANAGER("match", "MATCH NEWCOMER MENTOR", WORDS, managers_match,
                "managers: pair two members at once")
COMMAND_MANAGER("unmatch", "UNMATCH PAIR", WORDS, managers_unmatch, "managers: end a pairing")
COMMAND_MANAGER("block", "BLOCK MEMBER MEMBER", WORDS, managers_block,
                "managers: never pair these two members")
COMMAND_MANAGER("pause", "PAUSE MEMBER", WORDS, managers_pause, "managers: pause a member")
COMMAND_MANAGER("resume", "RESUME MEMBER", WORDS, managers_resume, "managers: end a member's pause")
COMMAND_MANAGER("remove", "REMOVE MEMBER", WORDS, managers_remove, "managers: erase a member")
