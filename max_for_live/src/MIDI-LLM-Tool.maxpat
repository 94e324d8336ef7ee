{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 5,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100.0,
			100.0,
			1000.0,
			720.0
		],
		"openrect": [
			0.0,
			0.0,
			152.0,
			146.0
		],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10.0,
		"default_fontface": 0,
		"default_fontname": "Arial Bold",
		"gridonopen": 1,
		"gridsize": [
			8.0,
			8.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"lefttoolbarpinned": 0,
		"toptoolbarpinned": 0,
		"righttoolbarpinned": 0,
		"bottomtoolbarpinned": 0,
		"toolbars_unpinned_last_save": 0,
		"tallnewobj": 0,
		"boxanimatetime": 200,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 152.0,
		"description": "MIDI-LLM in the clip editor (Live 12 MIDI Tool): write into the time selection from a prompt, or re-imagine the selected notes, with a local midi-llm-bridge daemon.",
		"digest": "",
		"tags": "",
		"style": "",
		"subpatcher_template": "",
		"assistshowspatchername": 0,
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						20,
						90,
						22
					],
					"text": "live.thisdevice",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"bang",
						"int",
						"int"
					]
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						52,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "message",
					"patching_rect": [
						20,
						84,
						40,
						22
					],
					"text": "init",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"patching_rect": [
						200,
						20,
						100,
						22
					],
					"text": "udpreceive 9124",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"patching_rect": [
						200,
						52,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						300,
						200,
						22
					],
					"text": "js midi-llm-tool.js",
					"numinlets": 3,
					"numoutlets": 5,
					"outlettype": [
						"",
						"",
						"",
						"",
						""
					],
					"saved_object_attributes": {
						"filename": "midi-llm-tool.js",
						"parameter_enable": 0
					}
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						340,
						140,
						22
					],
					"text": "udpsend 127.0.0.1 9123",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": []
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						340,
						330,
						22
					],
					"text": "route status button replyport daemonport daemon installation secret",
					"numinlets": 1,
					"numoutlets": 8,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"patching_rect": [
						330,
						372,
						78,
						22
					],
					"text": "prepend text",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "newobj",
					"patching_rect": [
						420,
						372,
						78,
						22
					],
					"text": "prepend port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"patching_rect": [
						510,
						372,
						78,
						22
					],
					"text": "prepend port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"patching_rect": [
						380,
						20,
						100,
						22
					],
					"text": "live.miditool.in",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "newobj",
					"patching_rect": [
						180,
						380,
						110,
						22
					],
					"text": "live.miditool.out",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": []
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "newobj",
					"patching_rect": [
						380,
						260,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "live.tab",
					"patching_rect": [
						620,
						20,
						120,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						0,
						152,
						15
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Page",
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Page",
							"parameter_shortname": "Page",
							"parameter_type": 2,
							"parameter_enum": [
								"Main",
								"Options",
								"Daemon"
							],
							"parameter_mmax": 2,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1,
							"parameter_info": "Main: the prompt and what to write; Options: scale, pitch range, sampling, ports; Daemon: where midi-llm-bridge is, starting it."
						}
					},
					"annotation": "Main: the prompt and what to write; Options: scale, pitch range, sampling, ports; Daemon: where midi-llm-bridge is, starting it."
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "newobj",
					"patching_rect": [
						620,
						50,
						80,
						22
					],
					"text": "prepend page",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "comment",
					"patching_rect": [
						240,
						420,
						300,
						40
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						113,
						152,
						33
					],
					"text": "MIDI-LLM: select bars, press Apply (the daemon starts by itself: see the Daemon page)",
					"numinlets": 1,
					"numoutlets": 0,
					"linecount": 3,
					"varname": "Status",
					"fontsize": 8.5
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "textedit",
					"patching_rect": [
						20,
						130,
						300,
						36
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						18,
						152,
						38
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 3,
					"wordwrap": 1,
					"varname": "Prompt",
					"parameter_enable": 0,
					"fontsize": 10.0,
					"annotation": "What to write, in words (MIDI-LLM checkpoints); Return keeps it. Apply, Generate or Re-roll sends it."
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "newobj",
					"patching_rect": [
						140,
						176,
						32,
						22
					],
					"text": "t b",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					]
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "newobj",
					"patching_rect": [
						180,
						176,
						60,
						22
					],
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						176,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						208,
						96,
						22
					],
					"text": "prepend prompt",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "live.text",
					"patching_rect": [
						340,
						130,
						70,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						96,
						74,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Generate",
					"texton": "Generate",
					"varname": "Generate",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Generate",
							"parameter_shortname": "Generate",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Write into the time selection now; while the model writes, Cancel stops it."
						}
					},
					"annotation": "Write into the time selection now; while the model writes, Cancel stops it."
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "newobj",
					"patching_rect": [
						340,
						160,
						40,
						22
					],
					"text": "t b b",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					]
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "message",
					"patching_rect": [
						340,
						190,
						40,
						22
					],
					"text": "go",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "live.text",
					"patching_rect": [
						440,
						130,
						70,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						78,
						96,
						74,
						17
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Re-roll",
					"texton": "Re-roll",
					"varname": "Re-roll",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Re-roll",
							"parameter_shortname": "Re-roll",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "The last request again with a new seed: another take on the same bars."
						}
					},
					"annotation": "The last request again with a new seed: another take on the same bars."
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "newobj",
					"patching_rect": [
						440,
						160,
						40,
						22
					],
					"text": "t b b",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"bang",
						"bang"
					]
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "message",
					"patching_rect": [
						440,
						190,
						50,
						22
					],
					"text": "reroll",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "live.menu",
					"patching_rect": [
						20,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						59,
						98,
						15
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Instrument",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Instrument",
							"parameter_shortname": "Instrument",
							"parameter_type": 2,
							"parameter_enum": [
								"auto",
								"0 Acoustic Grand Piano",
								"1 Bright Acoustic Piano",
								"2 Electric Grand Piano",
								"3 Honky-tonk Piano",
								"4 Electric Piano 1",
								"5 Electric Piano 2",
								"6 Harpsichord",
								"7 Clavinet",
								"8 Celesta",
								"9 Glockenspiel",
								"10 Music Box",
								"11 Vibraphone",
								"12 Marimba",
								"13 Xylophone",
								"14 Tubular Bells",
								"15 Dulcimer",
								"16 Drawbar Organ",
								"17 Percussive Organ",
								"18 Rock Organ",
								"19 Church Organ",
								"20 Reed Organ",
								"21 Accordion",
								"22 Harmonica",
								"23 Tango Accordion",
								"24 Acoustic Guitar (nylon)",
								"25 Acoustic Guitar (steel)",
								"26 Electric Guitar (jazz)",
								"27 Electric Guitar (clean)",
								"28 Electric Guitar (muted)",
								"29 Overdriven Guitar",
								"30 Distortion Guitar",
								"31 Guitar Harmonics",
								"32 Acoustic Bass",
								"33 Electric Bass (finger)",
								"34 Electric Bass (pick)",
								"35 Fretless Bass",
								"36 Slap Bass 1",
								"37 Slap Bass 2",
								"38 Synth Bass 1",
								"39 Synth Bass 2",
								"40 Violin",
								"41 Viola",
								"42 Cello",
								"43 Contrabass",
								"44 Tremolo Strings",
								"45 Pizzicato Strings",
								"46 Orchestral Harp",
								"47 Timpani",
								"48 String Ensemble 1",
								"49 String Ensemble 2",
								"50 Synth Strings 1",
								"51 Synth Strings 2",
								"52 Choir Aahs",
								"53 Voice Oohs",
								"54 Synth Voice",
								"55 Orchestra Hit",
								"56 Trumpet",
								"57 Trombone",
								"58 Tuba",
								"59 Muted Trumpet",
								"60 French Horn",
								"61 Brass Section",
								"62 Synth Brass 1",
								"63 Synth Brass 2",
								"64 Soprano Sax",
								"65 Alto Sax",
								"66 Tenor Sax",
								"67 Baritone Sax",
								"68 Oboe",
								"69 English Horn",
								"70 Bassoon",
								"71 Clarinet",
								"72 Piccolo",
								"73 Flute",
								"74 Recorder",
								"75 Pan Flute",
								"76 Blown Bottle",
								"77 Shakuhachi",
								"78 Whistle",
								"79 Ocarina",
								"80 Lead 1 (square)",
								"81 Lead 2 (sawtooth)",
								"82 Lead 3 (calliope)",
								"83 Lead 4 (chiff)",
								"84 Lead 5 (charang)",
								"85 Lead 6 (voice)",
								"86 Lead 7 (fifths)",
								"87 Lead 8 (bass + lead)",
								"88 Pad 1 (new age)",
								"89 Pad 2 (warm)",
								"90 Pad 3 (polysynth)",
								"91 Pad 4 (choir)",
								"92 Pad 5 (bowed)",
								"93 Pad 6 (metallic)",
								"94 Pad 7 (halo)",
								"95 Pad 8 (sweep)",
								"96 FX 1 (rain)",
								"97 FX 2 (soundtrack)",
								"98 FX 3 (crystal)",
								"99 FX 4 (atmosphere)",
								"100 FX 5 (brightness)",
								"101 FX 6 (goblin)",
								"102 FX 7 (echoes)",
								"103 FX 8 (sci-fi)",
								"104 Sitar",
								"105 Banjo",
								"106 Shamisen",
								"107 Koto",
								"108 Kalimba",
								"109 Bagpipe",
								"110 Fiddle",
								"111 Shanai",
								"112 Tinkle Bell",
								"113 Agogo",
								"114 Steel Drums",
								"115 Woodblock",
								"116 Taiko Drum",
								"117 Melodic Tom",
								"118 Synth Drum",
								"119 Reverse Cymbal",
								"120 Guitar Fret Noise",
								"121 Breath Noise",
								"122 Seashore",
								"123 Bird Tweet",
								"124 Telephone Ring",
								"125 Helicopter",
								"126 Applause",
								"127 Gunshot",
								"128 Drums"
							],
							"parameter_mmax": 129,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "The instrument the model writes for. auto: the clip's track ('Bass', '[33]', a Drum Rack; piano when nothing says); accompany: a bass under the selection, or strings over a low one."
						}
					},
					"annotation": "The instrument the model writes for. auto: the clip's track ('Bass', '[33]', a Drum Rack; piano when nothing says); accompany: a bass under the selection, or strings over a low one."
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						512,
						110,
						22
					],
					"text": "prepend instrument",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "live.menu",
					"patching_rect": [
						130,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						100,
						59,
						52,
						15
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Grid",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Grid",
							"parameter_shortname": "Grid",
							"parameter_type": 2,
							"parameter_enum": [
								"editor",
								"off",
								"1/4",
								"1/8",
								"1/8T",
								"1/16",
								"1/16T",
								"1/32"
							],
							"parameter_mmax": 7,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "Snap new notes: editor follows the clip editor's grid (off when it is off), or a fixed grid."
						}
					},
					"annotation": "Snap new notes: editor follows the clip editor's grid (off when it is off), or a fixed grid."
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "newobj",
					"patching_rect": [
						130,
						512,
						110,
						22
					],
					"text": "prepend grid",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "live.menu",
					"patching_rect": [
						240,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						77,
						98,
						15
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Mode",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Mode",
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_enum": [
								"keep rhythm",
								"keep pitches",
								"accompany"
							],
							"parameter_mmax": 2,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "keep rhythm: the selected notes keep their onsets and lengths, the model rewrites the pitches; keep pitches: they keep their pitches in order, the model writes the rhythm; accompany: the model adds another part around the selection."
						}
					},
					"annotation": "keep rhythm: the selected notes keep their onsets and lengths, the model rewrites the pitches; keep pitches: they keep their pitches in order, the model writes the rhythm; accompany: the model adds another part around the selection."
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						512,
						110,
						22
					],
					"text": "prepend mode",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"varname": "Mode prepend"
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "comment",
					"patching_rect": [
						240,
						540,
						120,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						77,
						98,
						15
					],
					"text": "fills the selection",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "About"
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "live.numbox",
					"patching_rect": [
						350,
						480,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						100,
						77,
						52,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Seed",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 2147483647,
							"parameter_unitstyle": 9,
							"parameter_units": "seed %d",
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1,
							"parameter_info": "0: a new seed each time; the status line shows the seed used: set it here to get the same notes again."
						}
					},
					"annotation": "0: a new seed each time; the status line shows the seed used: set it here to get the same notes again."
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "newobj",
					"patching_rect": [
						350,
						512,
						110,
						22
					],
					"text": "prepend seed",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "comment",
					"patching_rect": [
						20,
						600,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						18,
						50,
						13
					],
					"text": "Scale",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Scale label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "live.menu",
					"patching_rect": [
						20,
						620,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						31,
						50,
						15
					],
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Scale",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Scale",
							"parameter_shortname": "Scale",
							"parameter_type": 2,
							"parameter_enum": [
								"editor",
								"off"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "editor: when the clip's Scale Mode is on, the model samples new pitches only from its scale; off: never."
						}
					},
					"annotation": "editor: when the clip's Scale Mode is on, the model samples new pitches only from its scale; off: never.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						652,
						110,
						22
					],
					"text": "prepend scale",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "comment",
					"patching_rect": [
						130,
						600,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						52,
						18,
						48,
						13
					],
					"text": "Low",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Low label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "live.numbox",
					"patching_rect": [
						130,
						620,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						52,
						31,
						48,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Low",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Low",
							"parameter_shortname": "Low",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 127,
							"parameter_unitstyle": 8,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_info": "The lowest pitch of new notes (accompany: with Low and High left at C-2 and G8, two octaves under the selection)."
						}
					},
					"annotation": "The lowest pitch of new notes (accompany: with Low and High left at C-2 and G8, two octaves under the selection).",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"patching_rect": [
						130,
						652,
						110,
						22
					],
					"text": "prepend low",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "comment",
					"patching_rect": [
						240,
						600,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						102,
						18,
						50,
						13
					],
					"text": "High",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "High label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "live.numbox",
					"patching_rect": [
						240,
						620,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						102,
						31,
						50,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "High",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "High",
							"parameter_shortname": "High",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 127,
							"parameter_unitstyle": 8,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								127
							],
							"parameter_info": "The highest pitch of new notes."
						}
					},
					"annotation": "The highest pitch of new notes.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "newobj",
					"patching_rect": [
						240,
						652,
						110,
						22
					],
					"text": "prepend high",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "comment",
					"patching_rect": [
						350,
						600,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						50,
						74,
						13
					],
					"text": "Temperature",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Temperature label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "live.numbox",
					"patching_rect": [
						350,
						620,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						63,
						74,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Temperature",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Temperature",
							"parameter_shortname": "Temperature",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 5.0,
							"parameter_unitstyle": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1.0
							],
							"parameter_info": "Sampling temperature (1.0 as the authors recommend)."
						}
					},
					"annotation": "Sampling temperature (1.0 as the authors recommend).",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "newobj",
					"patching_rect": [
						350,
						652,
						110,
						22
					],
					"text": "prepend temperature",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "comment",
					"patching_rect": [
						460,
						600,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						78,
						50,
						74,
						13
					],
					"text": "Top-p",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Top-p label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "live.numbox",
					"patching_rect": [
						460,
						620,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						78,
						63,
						74,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Top-p",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Top-p",
							"parameter_shortname": "Top-p",
							"parameter_type": 0,
							"parameter_mmin": 0.01,
							"parameter_mmax": 1.0,
							"parameter_unitstyle": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0.98
							],
							"parameter_info": "Nucleus sampling (0.98 as the authors recommend)."
						}
					},
					"annotation": "Nucleus sampling (0.98 as the authors recommend).",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "newobj",
					"patching_rect": [
						460,
						652,
						110,
						22
					],
					"text": "prepend top_p",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "comment",
					"patching_rect": [
						20,
						700,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						82,
						50,
						13
					],
					"text": "Daemon",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Daemon label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "live.numbox",
					"patching_rect": [
						20,
						720,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						95,
						50,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Daemon port",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Daemon port",
							"parameter_shortname": "Daemon port",
							"parameter_type": 1,
							"parameter_mmin": 1024,
							"parameter_mmax": 65535,
							"parameter_unitstyle": 0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								9123
							],
							"parameter_invisible": 1,
							"parameter_info": "The daemon's UDP port (make run: 9123)."
						}
					},
					"annotation": "The daemon's UDP port (make run: 9123).",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						752,
						110,
						22
					],
					"text": "prepend daemon_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "comment",
					"patching_rect": [
						130,
						700,
						90,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						52,
						82,
						48,
						13
					],
					"text": "Reply",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Reply label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "live.numbox",
					"patching_rect": [
						130,
						720,
						80,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						52,
						95,
						48,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"varname": "Reply port",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Reply port",
							"parameter_shortname": "Reply port",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 65535,
							"parameter_unitstyle": 0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1,
							"parameter_info": "Where this tool listens; 0 = chosen from its id. Each MIDI-LLM device and tool needs its own."
						}
					},
					"annotation": "Where this tool listens; 0 = chosen from its id. Each MIDI-LLM device and tool needs its own.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "newobj",
					"patching_rect": [
						130,
						752,
						110,
						22
					],
					"text": "prepend reply_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "live.text",
					"patching_rect": [
						240,
						720,
						70,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						102,
						95,
						50,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Check",
					"texton": "Check",
					"varname": "Check",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Check",
							"parameter_shortname": "Check",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Ping the daemon and show whether it is ready."
						}
					},
					"annotation": "Ping the daemon and show whether it is ready.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "message",
					"patching_rect": [
						240,
						752,
						44,
						22
					],
					"text": "check",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "newobj",
					"patching_rect": [
						20,
						800,
						270,
						22
					],
					"text": "node.script midi-llm-launcher.js @autostart 1",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"saved_object_attributes": {
						"autostart": 1,
						"defer": 0,
						"node_bin_path": "",
						"npm_bin_path": "",
						"watch": 0
					}
				}
			},
			{
				"box": {
					"id": "obj-72",
					"maxclass": "live.text",
					"patching_rect": [
						20,
						840,
						80,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						52,
						98,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 0,
					"text": "Start daemon",
					"texton": "Start daemon",
					"varname": "Start daemon",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Start daemon",
							"parameter_shortname": "Start daemon",
							"parameter_type": 2,
							"parameter_enum": [
								"val1",
								"val2"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1,
							"parameter_info": "Start the midi-llm-bridge daemon when none answers (Reload model when it could not load the model)."
						}
					},
					"annotation": "Start the midi-llm-bridge daemon when none answers (Reload model when it could not load the model).",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "message",
					"patching_rect": [
						20,
						870,
						50,
						22
					],
					"text": "launch",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-74",
					"maxclass": "live.text",
					"patching_rect": [
						120,
						840,
						70,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						100,
						52,
						52,
						15
					],
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"mode": 1,
					"text": "Auto-start",
					"texton": "Auto-start",
					"varname": "Auto-start",
					"fontsize": 9.0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Auto-start",
							"parameter_shortname": "Auto-start",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1,
							"parameter_info": "Start the daemon automatically when none answers on the Daemon port."
						}
					},
					"annotation": "Start the daemon automatically when none answers on the Daemon port.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "newobj",
					"patching_rect": [
						120,
						870,
						110,
						22
					],
					"text": "prepend autostart",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-76",
					"maxclass": "textedit",
					"patching_rect": [
						250,
						840,
						200,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						31,
						152,
						17
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 1,
					"wordwrap": 0,
					"varname": "Daemon path",
					"parameter_enable": 0,
					"fontsize": 9.0,
					"annotation": "Daemon path: this project's folder (or its .venv, or the midi-llm-bridge program). Empty: the folder this device is in, then PATH. Remembered for every MIDI-LLM device and tool.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "newobj",
					"patching_rect": [
						250,
						870,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-78",
					"maxclass": "newobj",
					"patching_rect": [
						250,
						900,
						120,
						22
					],
					"text": "prepend installation",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-79",
					"maxclass": "newobj",
					"patching_rect": [
						600,
						372,
						78,
						22
					],
					"text": "prepend text",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "newobj",
					"patching_rect": [
						690,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-81",
					"maxclass": "comment",
					"patching_rect": [
						250,
						810,
						200,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						18,
						152,
						13
					],
					"text": "Daemon path (this project's folder)",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Path label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "comment",
					"patching_rect": [
						470,
						820,
						200,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						70,
						152,
						13
					],
					"text": "Secret (the daemon's osc.secret)",
					"numinlets": 1,
					"numoutlets": 0,
					"fontsize": 9.0,
					"varname": "Secret label",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "textedit",
					"patching_rect": [
						470,
						850,
						200,
						22
					],
					"presentation": 1,
					"presentation_rect": [
						0,
						83,
						152,
						17
					],
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"keymode": 1,
					"lines": 1,
					"wordwrap": 0,
					"varname": "Secret",
					"parameter_enable": 0,
					"fontsize": 9.0,
					"annotation": "Secret: the daemon's osc.secret, when it has one (a daemon on another interface than loopback needs one); every message then carries it. Empty: none. Remembered for every MIDI-LLM device and tool, and given to a daemon the device starts.",
					"hidden": 1
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "newobj",
					"patching_rect": [
						470,
						880,
						64,
						22
					],
					"text": "route text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "newobj",
					"patching_rect": [
						470,
						910,
						100,
						22
					],
					"text": "prepend secret",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "newobj",
					"patching_rect": [
						780,
						372,
						74,
						22
					],
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					]
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-2",
						0
					],
					"source": [
						"obj-1",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-3",
						0
					],
					"source": [
						"obj-2",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-6",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-8",
						0
					],
					"source": [
						"obj-6",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-14",
						0
					],
					"source": [
						"obj-6",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-15",
						0
					],
					"source": [
						"obj-6",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-13",
						0
					],
					"source": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						1
					],
					"source": [
						"obj-13",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						2
					],
					"source": [
						"obj-13",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-9",
						0
					],
					"source": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-10",
						0
					],
					"source": [
						"obj-8",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-11",
						0
					],
					"source": [
						"obj-8",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-4",
						0
					],
					"source": [
						"obj-11",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-12",
						0
					],
					"source": [
						"obj-8",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-7",
						0
					],
					"source": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-17",
						0
					],
					"source": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-17",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-18",
						0
					],
					"source": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-20",
						0
					],
					"source": [
						"obj-19",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-21",
						0
					],
					"source": [
						"obj-20",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-21",
						0
					],
					"source": [
						"obj-20",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-21",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-23",
						0
					],
					"source": [
						"obj-22",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-19",
						0
					],
					"source": [
						"obj-23",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-24",
						0
					],
					"source": [
						"obj-23",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-24",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-22",
						0
					],
					"source": [
						"obj-10",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-26",
						0
					],
					"source": [
						"obj-25",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-19",
						0
					],
					"source": [
						"obj-26",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-27",
						0
					],
					"source": [
						"obj-26",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-27",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-29",
						0
					],
					"source": [
						"obj-28",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-29",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-31",
						0
					],
					"source": [
						"obj-30",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-31",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-33",
						0
					],
					"source": [
						"obj-32",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-36",
						0
					],
					"source": [
						"obj-35",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-39",
						0
					],
					"source": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-39",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-42",
						0
					],
					"source": [
						"obj-41",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-45",
						0
					],
					"source": [
						"obj-44",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-45",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-48",
						0
					],
					"source": [
						"obj-47",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-48",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-51",
						0
					],
					"source": [
						"obj-50",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-51",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-54",
						0
					],
					"source": [
						"obj-53",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-54",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-57",
						0
					],
					"source": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-57",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-59",
						0
					],
					"source": [
						"obj-58",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-59",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-60",
						0
					],
					"source": [
						"obj-19",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-61",
						0
					],
					"source": [
						"obj-60",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-19",
						0
					],
					"source": [
						"obj-61",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-71",
						0
					],
					"source": [
						"obj-6",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-5",
						0
					],
					"source": [
						"obj-71",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-73",
						0
					],
					"source": [
						"obj-72",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-73",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-75",
						0
					],
					"source": [
						"obj-74",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-75",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-77",
						0
					],
					"source": [
						"obj-76",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-78",
						0
					],
					"source": [
						"obj-77",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-78",
						0
					],
					"source": [
						"obj-77",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-78",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-79",
						0
					],
					"source": [
						"obj-8",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-72",
						0
					],
					"source": [
						"obj-79",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-80",
						0
					],
					"source": [
						"obj-8",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-76",
						0
					],
					"source": [
						"obj-80",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-92",
						0
					],
					"source": [
						"obj-91",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						0
					],
					"source": [
						"obj-92",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-93",
						0
					],
					"source": [
						"obj-92",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-6",
						0
					],
					"source": [
						"obj-93",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-94",
						0
					],
					"source": [
						"obj-8",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-91",
						0
					],
					"source": [
						"obj-94",
						0
					]
				}
			}
		],
		"parameters": {
			"obj-16": [
				"Page",
				"Page",
				0
			],
			"obj-22": [
				"Generate",
				"Generate",
				0
			],
			"obj-25": [
				"Re-roll",
				"Re-roll",
				0
			],
			"obj-28": [
				"Instrument",
				"Instrument",
				0
			],
			"obj-30": [
				"Grid",
				"Grid",
				0
			],
			"obj-32": [
				"Mode",
				"Mode",
				0
			],
			"obj-35": [
				"Seed",
				"Seed",
				0
			],
			"obj-38": [
				"Scale",
				"Scale",
				0
			],
			"obj-41": [
				"Low",
				"Low",
				0
			],
			"obj-44": [
				"High",
				"High",
				0
			],
			"obj-47": [
				"Temperature",
				"Temperature",
				0
			],
			"obj-50": [
				"Top-p",
				"Top-p",
				0
			],
			"obj-53": [
				"Daemon port",
				"Daemon port",
				0
			],
			"obj-56": [
				"Reply port",
				"Reply port",
				0
			],
			"obj-58": [
				"Check",
				"Check",
				0
			],
			"inherited_shortname": 1,
			"obj-72": [
				"Start daemon",
				"Start daemon",
				0
			],
			"obj-74": [
				"Auto-start",
				"Auto-start",
				0
			]
		},
		"autosave": 0,
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "12.0",
		"minimum_max_version": "8.5.0",
		"project": {
			"version": 1,
			"creationdate": 3786825600,
			"modificationdate": 3786825600,
			"viewrect": [
				0.0,
				0.0,
				300.0,
				500.0
			],
			"autoorganize": 1,
			"hideprojectwindow": 1,
			"showdependencies": 1,
			"autolocalize": 0,
			"contents": {
				"patchers": {}
			},
			"layout": {},
			"searchpath": {},
			"detailsvisible": 0,
			"amxdtype": 0,
			"readonly": 0,
			"devpathtype": 0,
			"devpath": ".",
			"sortmode": 0,
			"viewmode": 0,
			"includepackages": 0
		}
	}
}
